/*
 * namesort.c: the hot loops of the 0.1 symbol map (src/klp/map01.ts, loaded by
 * src/klp/namesort.ts), compiled to WebAssembly by scripts/build-wasm.sh.
 *
 * ns_sort orders the offsets of NUL-terminated names in one string table by the bytes they point
 * at (strcmp order, what `LC_ALL=C nm` prints), ns_emit writes the names in that order, each
 * followed by '\n'. Not stable: equal names print identical lines, so equal names need no order.
 *
 * The sort is a multikey quicksort (Bentley & Sedgewick, "Fast algorithms for sorting and
 * searching strings", 1997) whose "characters" are 8 bytes: each name's next 8 bytes (up to its
 * NUL, zero after it) are loaded once per level into a 64-bit big-endian key kept beside the
 * offset, so partitioning compares integers in two sequential arrays instead of loading a byte
 * of the string table per comparison; the names that share their 8 bytes go on to the next 8.
 * Kernel names share long prefixes (`__pfx_`, `__ksymtab_`, `__UNIQUE_ID_`): 8 bytes a level
 * walks them in an eighth of the levels.
 *
 * No libc, no globals, no stack arrays: the caller lays everything out in linear memory. The
 * string table must be followed by 16 readable bytes (keys load 8 bytes at a time, copies 16).
 */
#include <stdint.h>
#include <wasm_simd128.h>

static inline uint64_t load64(const uint8_t *p)
{
	uint64_t v;
	__builtin_memcpy(&v, p, 8);
	return v;
}

/* zeros marks the first zero byte of a little-endian word exactly (higher marks may be false) */
static inline uint64_t zeros(uint64_t w)
{
	return (w - 0x0101010101010101ull) & ~w & 0x8080808080808080ull;
}

/*
 * key_at is the sort key of the 8 bytes at p: the bytes up to the first NUL, zero after it, the
 * first byte most significant. Its low byte is 0 exactly when the name ends within the 8 bytes.
 */
static inline uint64_t key_at(const uint8_t *p)
{
	uint64_t w = load64(p);
	uint64_t z = zeros(w);
	w &= ((z & -z) << 1) - 1; /* the bytes up to the NUL (no NUL: all ones, all 8 bytes) */
	return __builtin_bswap64(w);
}

static void load_keys(const uint8_t *b, const uint32_t *a, uint64_t *k, int32_t n, int32_t depth)
{
	for (int32_t i = 0; i < n; i++)
		k[i] = key_at(b + a[i] + depth);
}

/*
 * part moves the names of a[from, n) whose key is below v (lt) or equal to v (eq) to the front
 * of that range, keeping the order of neither part, and returns where the rest starts. No
 * branch on the keys (a swap per name, whether it moves or not): a three-way partition's
 * branches are mispredicted for about every other name, and this measured 15 % faster on the
 * full corpus's tables.
 */
static inline int32_t part(uint32_t *a, uint64_t *k, int32_t from, int32_t n, uint64_t v, int32_t eq)
{
	int32_t to = from;
	for (int32_t i = from; i < n; i++) {
		uint64_t x = k[i];
		uint32_t y = a[i];
		int32_t in = eq ? x == v : x < v;
		k[i] = k[to];
		a[i] = a[to];
		k[to] = x;
		a[to] = y;
		to += in;
	}
	return to;
}

static inline uint64_t median3(uint64_t x, uint64_t y, uint64_t z)
{
	return x < y ? (y < z ? y : x < z ? z : x) : x < z ? x : y < z ? z : y;
}

/* below this many names, insertion sort */
#define SMALL 16

static void sort_level(const uint8_t *b, uint32_t *a, uint64_t *k, int32_t n, int32_t depth);

/*
 * small sorts n < SMALL names by key, then each run of equal keys whose names go on by the next
 * 8 bytes; a run of all n goes on in the loop (no recursion per 8 bytes of two long equal names).
 */
static void small(const uint8_t *b, uint32_t *a, uint64_t *k, int32_t n, int32_t depth)
{
	for (;;) {
		for (int32_t i = 1; i < n; i++) {
			uint32_t x = a[i];
			uint64_t y = k[i];
			int32_t j = i - 1;
			while (j >= 0 && k[j] > y) {
				a[j + 1] = a[j];
				k[j + 1] = k[j];
				j--;
			}
			a[j + 1] = x;
			k[j + 1] = y;
		}
		if (n < 2 || k[0] != k[n - 1]) {
			for (int32_t s = 0; s < n;) {
				int32_t e = s + 1;
				while (e < n && k[e] == k[s])
					e++;
				if (e - s > 1 && (k[s] & 0xff) != 0) {
					load_keys(b, a + s, k + s, e - s, depth + 8);
					sort_level(b, a + s, k + s, e - s, depth + 8);
				}
				s = e;
			}
			return;
		}
		if ((k[0] & 0xff) == 0)
			return; /* all equal names */
		depth += 8;
		load_keys(b, a, k, n, depth);
	}
}

/*
 * sort_level sorts a[0, n) by the names from byte `depth` on, k[0, n) holding their keys at
 * `depth`. A three-way partition on the key; of the three parts, the two smaller recurse and the
 * largest is the next turn of the loop, so the recursion is at most log2(n) deep.
 */
static void sort_level(const uint8_t *b, uint32_t *a, uint64_t *k, int32_t n, int32_t depth)
{
	for (;;) {
		if (n < SMALL) {
			small(b, a, k, n, depth);
			return;
		}
		uint64_t v;
		if (n > 256) {
			/* the median of three medians of three (Tukey's ninther): 5 % faster than one median of three */
			int32_t e = n >> 3;
			v = median3(median3(k[0], k[e], k[2 * e]), median3(k[3 * e], k[4 * e], k[5 * e]),
				    median3(k[6 * e], k[7 * e], k[n - 1]));
		} else {
			v = median3(k[0], k[n >> 1], k[n - 1]);
		}
		/* [0, lt) < v, [lt, gt] == v, (gt, n) > v */
		int32_t lt = part(a, k, 0, n, v, 0);
		int32_t gt = part(a, k, lt, n, v, 1) - 1;
		int32_t nl = lt, ne = gt + 1 - lt, ng = n - 1 - gt;
		int32_t go_on = (v & 0xff) != 0; /* the equal part's names go on past these 8 bytes */
		if (!go_on)
			ne = 0;
		/* the largest part loops, the others recurse */
		if (ne >= nl && ne >= ng) {
			if (nl > 1)
				sort_level(b, a, k, nl, depth);
			if (ng > 1)
				sort_level(b, a + gt + 1, k + gt + 1, ng, depth);
			if (ne < 2)
				return;
			a += lt;
			k += lt;
			n = ne;
			depth += 8;
			load_keys(b, a, k, n, depth);
		} else {
			if (ne > 1) {
				load_keys(b, a + lt, k + lt, ne, depth + 8);
				sort_level(b, a + lt, k + lt, ne, depth + 8);
			}
			if (nl >= ng) {
				if (ng > 1)
					sort_level(b, a + gt + 1, k + gt + 1, ng, depth);
				n = nl;
			} else {
				if (nl > 1)
					sort_level(b, a, k, nl, depth);
				a += gt + 1;
				k += gt + 1;
				n = ng;
			}
			if (n < 2)
				return;
		}
	}
}

/* ns_sort sorts the n name offsets a[] by the names at b + a[i]; k[] is room for n keys */
int32_t ns_sort(const uint8_t *b, uint32_t *a, uint64_t *k, int32_t n)
{
	if (n > 1) {
		load_keys(b, a, k, n, 0);
		sort_level(b, a, k, n, 0);
	}
	return 0;
}

/*
 * ns_filter writes to out[] the st_name of each of the n symbol table entries of `es` bytes at
 * raw, from entry 1 on, whose type (the low 4 bits of the byte at `info_at`) has no bit in
 * `skip`, in table order, and returns how many it wrote; max[0] gets the largest st_name of all
 * n entries, entry 0 included (the caller checks it against the string table). `be`: the fields
 * are big-endian.
 */
int32_t ns_filter(const uint8_t *raw, int32_t n, int32_t es, int32_t info_at, int32_t be, int32_t skip, uint32_t *out, uint32_t *max)
{
	uint32_t m = 0;
	int32_t k = 0;
	for (int32_t i = 0; i < n; i++, raw += es) {
		uint32_t name;
		__builtin_memcpy(&name, raw, 4);
		if (be)
			name = __builtin_bswap32(name);
		m = name > m ? name : m;
		out[k] = name;
		k += i != 0 && ((skip >> (raw[info_at] & 0xf)) & 1) == 0;
	}
	max[0] = m;
	return k;
}

/*
 * The 0.1 map's module reader (map01.ts emitModule01) asks these whether a module is the plain
 * case it reads by itself: an ELF64 little-endian file whose header, section headers, section
 * names, .modinfo and symbol table pass every check src/elf/read.ts makes, and then some (any
 * field this does not take: 1, and the module is read by ElfFile, which gives its errors).
 */
struct elf_info {
	int32_t shoff;
	int32_t shnum;
	int32_t shstrndx;
	int32_t machine;
	int32_t modinfo_off;
	int32_t modinfo_size; /* 0: no .modinfo, or no contents */
	int32_t symtab_off;
	int32_t symtab_size; /* -1: no SHT_SYMTAB */
	int32_t strtab_off;
	int32_t strtab_size;
};

static inline uint32_t le32(const uint8_t *p)
{
	uint32_t v;
	__builtin_memcpy(&v, p, 4);
	return v;
}

static inline uint32_t le16(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8;
}

/* ns_ehdr takes the 64 bytes of an ELF header at h: 0 and o's header fields set, or 1 */
int32_t ns_ehdr(const uint8_t *h, struct elf_info *o)
{
	if (le32(h) != 0x464c457fu || h[4] != 2 || h[5] != 1)
		return 1; /* not ELF64 little-endian */
	if (le32(h + 36) > 0x1fffff || le32(h + 44) != 0)
		return 1; /* e_phoff not a safe integer, e_shoff 4 GiB or more */
	uint32_t shoff = le32(h + 40);
	uint32_t shentsize = le16(h + 58), shnum = le16(h + 60), shstrndx = le16(h + 62);
	if (shoff == 0 || shoff > 0x7fffffffu || shentsize != 64 || shnum == 0 || shstrndx == 0 || shstrndx >= shnum)
		return 1;
	o->shoff = (int32_t)shoff;
	o->shnum = (int32_t)shnum;
	o->shstrndx = (int32_t)shstrndx;
	o->machine = (int32_t)le16(h + 18);
	return 0;
}

/*
 * ns_shdrs takes the section header table at win + before, win holding the `before` bytes of
 * the file before it: 0 and o's section fields set, or 1. Every offset and size below 2 GiB,
 * addralign and entsize safe integers; the name table within the bytes before the table and
 * every name in it NUL-terminated; at most one .modinfo; the first SHT_SYMTAB's entry size 24,
 * its size a multiple of 24, its sh_link an SHT_STRTAB.
 */
int32_t ns_shdrs(const uint8_t *win, int32_t before, struct elf_info *o)
{
	const uint8_t *t = win + before;
	int32_t n = o->shnum;
	for (int32_t i = 0; i < n; i++) {
		const uint8_t *s = t + 64 * i;
		if (le32(s + 24) > 0x7fffffffu || le32(s + 28) != 0 || le32(s + 32) > 0x7fffffffu || le32(s + 36) != 0 ||
		    le32(s + 52) > 0x1fffff || le32(s + 60) > 0x1fffff)
			return 1;
	}
	const uint8_t *ss = t + 64 * o->shstrndx;
	if (le32(ss + 4) == 8)
		return 1; /* SHT_NOBITS */
	int64_t at = (int64_t)le32(ss + 24) - ((int64_t)o->shoff - before);
	int64_t size = le32(ss + 32);
	if (at < 0 || size == 0 || at + size > before)
		return 1;
	const uint8_t *names = win + at;
	int64_t last = size - 1;
	while (last >= 0 && names[last] != 0)
		last--;
	int32_t modinfo = -1, symtab = -1;
	for (int32_t i = 0; i < n; i++) {
		const uint8_t *s = t + 64 * i;
		uint32_t nm = le32(s);
		if ((int64_t)nm > last)
			return 1; /* past the table or not NUL-terminated */
		if ((int64_t)nm + 8 < size && names[nm + 8] == 0 && names[nm] == '.' && names[nm + 1] == 'm' && names[nm + 2] == 'o' &&
		    names[nm + 3] == 'd' && names[nm + 4] == 'i' && names[nm + 5] == 'n' && names[nm + 6] == 'f' && names[nm + 7] == 'o') {
			if (modinfo >= 0)
				return 1;
			modinfo = i;
		}
		if (symtab < 0 && le32(s + 4) == 2)
			symtab = i;
	}
	o->modinfo_off = 0;
	o->modinfo_size = 0;
	if (modinfo >= 0) {
		const uint8_t *s = t + 64 * modinfo;
		if (le32(s + 4) != 8) {
			o->modinfo_off = (int32_t)le32(s + 24);
			o->modinfo_size = (int32_t)le32(s + 32);
		}
	}
	o->symtab_size = -1;
	if (symtab >= 0) {
		const uint8_t *s = t + 64 * symtab;
		uint32_t size = le32(s + 32), link = le32(s + 40);
		if (le32(s + 56) != 24 || le32(s + 60) != 0 || size % 24 != 0 || link >= (uint32_t)n || le32(t + 64 * link + 4) != 3)
			return 1;
		o->symtab_off = (int32_t)le32(s + 24);
		o->symtab_size = (int32_t)size;
		o->strtab_off = (int32_t)le32(t + 64 * link + 24);
		o->strtab_size = (int32_t)le32(t + 64 * link + 32);
	}
	return 0;
}

static inline int32_t is_livepatch_key(const uint8_t *q)
{
	return q[0] == 'l' && q[1] == 'i' && q[2] == 'v' && q[3] == 'e' && q[4] == 'p' && q[5] == 'a' && q[6] == 't' &&
	       q[7] == 'c' && q[8] == 'h' && q[9] == '=';
}

/*
 * ns_livepatch: 1 when the n .modinfo bytes at p hold "livepatch=" at the start of a string (at 0
 * or after a NUL). The NULs are found 16 bytes at a time (a driver's .modinfo has kilobytes of
 * aliases), the key tested only where a string starts.
 */
int32_t ns_livepatch(const uint8_t *p, int32_t n)
{
	if (n >= 10 && is_livepatch_key(p))
		return 1;
	for (int32_t base = 0; base < n; base += 16) {
		uint32_t z = 0;
		if (n - base >= 16) {
			z = (uint32_t)wasm_i8x16_bitmask(wasm_i8x16_eq(wasm_v128_load(p + base), wasm_i8x16_splat(0)));
		} else {
			for (int32_t j = 0; j < n - base; j++)
				z |= (uint32_t)(p[base + j] == 0) << j;
		}
		while (z != 0) {
			int32_t at = base + __builtin_ctz(z) + 1;
			z &= z - 1;
			if (at + 10 <= n && is_livepatch_key(p + at))
				return 1;
		}
	}
	return 0;
}

/* where ns_emit stopped: the next name, and the next byte of it to copy (-1: its start) */
struct emit {
	int32_t next;
	int32_t at;
};

/*
 * ns_emit writes the names at b + a[s->next..n), each followed by '\n', into out[0, cap), as
 * many as fit (a name that does not fit is cut, and finished by the next call), and returns the
 * bytes written; s says where it stopped (s->next == n: all written). cap must be 16 or more.
 */
int32_t ns_emit(const uint8_t *b, const uint32_t *a, int32_t n, struct emit *s, uint8_t *out, int32_t cap)
{
	int32_t len = 0;
	int32_t i = s->next;
	int32_t p = s->at;
	for (; i < n; i++, p = -1) {
		if (p < 0)
			p = (int32_t)a[i];
		/*
		 * 16 bytes at a time while 16 fit (SIMD: 40 % faster than 8-byte words over the full
		 * corpus's 30 MB); the bytes past the NUL are overwritten or not counted
		 */
		for (;;) {
			if (cap - len < 16)
				goto tail;
			v128_t w = wasm_v128_load(b + p);
			wasm_v128_store(out + len, w);
			uint32_t z = (uint32_t)wasm_i8x16_bitmask(wasm_i8x16_eq(w, wasm_i8x16_splat(0)));
			if (z != 0) {
				len += __builtin_ctz(z);
				out[len++] = '\n';
				break;
			}
			len += 16;
			p += 16;
		}
		continue;
	tail:
		/* the last bytes of out, one at a time */
		while (len < cap && b[p] != 0)
			out[len++] = b[p++];
		if (len == cap)
			break;
		out[len++] = '\n';
	}
	s->next = i;
	s->at = i < n ? p : -1;
	return len;
}
