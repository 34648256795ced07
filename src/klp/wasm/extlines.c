/*
 * extlines.c: the per-symbol loops of the extended map (src/klp/generate-map.ts, loaded by
 * src/klp/extlines.ts), compiled to WebAssembly by scripts/build-wasm.sh.
 *
 * el_kallsyms picks vmlinux's symbols that the kallsyms table holds and puts them in its order
 * (the rules are src/klp/kallsyms.ts's lists, passed in as bytes); el_visible and el_linker ask
 * the same rules about one symbol. el_exports collects an object's exported names (X of every
 * `__ksymtab_X` and `__export_symbol_X` symbol) into an open-addressing hash table of FNV-1a
 * hashes, the names staying where they are in the string table; el_emit writes the symbol lines
 * `<name> <flags>[ <file index>]\n` (docs/symbols-format.md) of the symbols in `order`, or of
 * every named symbol but STT_SECTION and STT_FILE in table order, as many as fit in `out`.
 *
 * No libc, no globals: the caller lays the tables out in linear memory and describes them in a
 * `struct job` or `struct ks`. The string table must end with a NUL (the caller checks) and be
 * followed by 16 readable bytes (names are read and copied 16 bytes at a time).
 */
#include <stdint.h>
#include <wasm_simd128.h>

struct job {
	const uint8_t *strtab;
	int32_t count; /* symbols in the table, entry 0 included */
	const uint32_t *name_off; /* st_name per symbol */
	const uint8_t *info; /* st_info per symbol */
	const uint32_t *shndx; /* the section index (SHN_XINDEX resolved), 0 for undefined */
	const int32_t *owner; /* file-table index per symbol, -1 for none */
	const uint8_t *xflag; /* 1: exported by other means (Module.symvers); 0 (null): none */
	const uint8_t *init; /* 1 per section index whose name starts with .init */
	int32_t ninit;
	const uint32_t *order; /* symbols to write, in this order; null: table order */
	int32_t norder;
	int32_t next; /* where el_emit goes on: a position in order, or a symbol index */
	uint8_t *out;
	int32_t cap; /* out's size: at least the longest name plus 48 */
	int32_t *slots; /* hash table: 1 + export number, 0 empty; a power of two of them */
	int32_t mask;
	uint32_t *ex_start; /* each export's name in strtab */
	uint32_t *ex_end;
	int32_t nex;
	int32_t lines; /* lines written so far */
};

#define STT_SECTION 3
#define STT_FILE 4

static inline uint32_t fnv1a(const uint8_t *b, uint32_t o, uint32_t e)
{
	uint32_t h = 0x811c9dc5u;
	for (uint32_t p = o; p < e; p++)
		h = (h ^ b[p]) * 0x01000193u;
	return h;
}

/* name_end is the offset of the NUL that ends the name at o */
static inline uint32_t name_end(const uint8_t *b, uint32_t o)
{
	for (;;) {
		v128_t w = wasm_v128_load(b + o);
		uint32_t z = (uint32_t)wasm_i8x16_bitmask(wasm_i8x16_eq(w, wasm_i8x16_splat(0)));
		if (z != 0)
			return o + (uint32_t)__builtin_ctz(z);
		o += 16;
	}
}

static inline int32_t has_prefix(const uint8_t *b, uint32_t o, uint32_t e, const char *p, uint32_t n)
{
	if (e - o < n)
		return 0;
	for (uint32_t k = 0; k < n; k++)
		if (b[o + k] != (uint8_t)p[k])
			return 0;
	return 1;
}

/*
 * el_exports fills the job's hash table and returns how many exports it holds. The table has
 * room for 2 * count slots, but uses a power of two of at least twice the exports (sets mask):
 * a small table stays in cache while every global of the object is looked up.
 */
int32_t el_exports(struct job *j)
{
	const uint8_t *t = j->strtab;
	int32_t nex = 0;
	for (int32_t i = 1; i < j->count; i++) {
		uint32_t o = j->name_off[i];
		if (t[o] != '_' || t[o + 1] != '_')
			continue;
		uint32_t plen;
		if (t[o + 2] == 'k')
			plen = 10;
		else if (t[o + 2] == 'e')
			plen = 16;
		else
			continue;
		uint32_t e = name_end(t, o);
		if (!(plen == 10 ? has_prefix(t, o, e, "__ksymtab_", 10) : has_prefix(t, o, e, "__export_symbol_", 16)))
			continue;
		j->ex_start[nex] = o + plen;
		j->ex_end[nex] = e;
		nex++;
	}
	uint32_t slots = 1;
	while (slots < 2 * (uint32_t)nex)
		slots <<= 1;
	j->mask = (int32_t)slots - 1;
	for (uint32_t s = 0; s < slots; s++)
		j->slots[s] = 0;
	for (int32_t k = 0; k < nex; k++) {
		uint32_t s = fnv1a(t, j->ex_start[k], j->ex_end[k]) & (uint32_t)j->mask;
		while (j->slots[s] != 0)
			s = (s + 1) & (uint32_t)j->mask;
		j->slots[s] = k + 1;
	}
	j->nex = nex;
	return nex;
}

static inline int32_t exported(const struct job *j, uint32_t o, uint32_t e)
{
	const uint8_t *t = j->strtab;
	uint32_t len = e - o;
	for (uint32_t s = fnv1a(t, o, e) & (uint32_t)j->mask;; s = (s + 1) & (uint32_t)j->mask) {
		int32_t k = j->slots[s] - 1;
		if (k < 0)
			return 0;
		uint32_t a = j->ex_start[k];
		if (j->ex_end[k] - a != len)
			continue;
		uint32_t p = 0;
		while (p < len && t[a + p] == t[o + p])
			p++;
		if (p == len)
			return 1;
	}
}

static inline uint8_t bind_letter(uint32_t bind)
{
	switch (bind) {
	case 0: return 'l';
	case 1: return 'g';
	case 2: return 'w';
	case 10: return 'u';
	default: return 'o';
	}
}

static inline uint8_t type_letter(uint32_t type)
{
	switch (type) {
	case 0: return 'n';
	case 1: return 'o';
	case 2: return 'f';
	case 5: return 'c';
	case 6: return 't';
	case 10: return 'i';
	default: return '?';
	}
}

/*
 * line writes symbol i's line at out and returns its end, or 0 when it does not fit before end.
 * Not inlined, and el_emit returns every EMIT_LINES lines: WebAssembly has no on-stack
 * replacement, so a loop that runs in the baseline compiler's code stays there until it
 * returns, while a call goes to the optimised code as soon as it is ready (an object's first
 * el_emit ran at half speed otherwise).
 */
__attribute__((noinline)) static uint8_t *line(const struct job *j, int32_t i, uint8_t *out, uint8_t *end)
{
	const uint8_t *t = j->strtab;
	uint32_t o = j->name_off[i];
	uint32_t e = name_end(t, o);
	if ((int32_t)(e - o) + 48 > end - out)
		return 0;
	for (uint32_t p = o; p < e; p += 16, out += 16)
		wasm_v128_store(out, wasm_v128_load(t + p));
	out -= (o + ((e - o + 15) & ~15u)) - e; /* back to the name's end */
	*out++ = ' ';
	uint32_t sh = j->shndx[i];
	if (sh == 0) {
		*out++ = 'U';
	} else {
		uint32_t info = j->info[i];
		uint32_t bind = info >> 4;
		*out++ = bind_letter(bind);
		*out++ = type_letter(info & 0xf);
		if (sh < (uint32_t)j->ninit && j->init[sh] == 1)
			*out++ = 'i';
		if (bind != 0 && ((j->xflag != 0 && j->xflag[i] != 0) || (j->nex > 0 && exported(j, o, e))))
			*out++ = 'x';
		int32_t f = j->owner[i];
		if (f >= 0) {
			*out++ = ' ';
			uint8_t d[10];
			int32_t n = 0;
			do {
				d[n++] = (uint8_t)('0' + f % 10);
				f /= 10;
			} while (f > 0);
			while (n > 0)
				*out++ = d[--n];
		}
	}
	*out++ = '\n';
	return out;
}

#define EMIT_LINES 8192

/* el_emit writes the lines from j->next on into j->out, as many as fit (EMIT_LINES at most), and returns the bytes written */
int32_t el_emit(struct job *j)
{
	uint8_t *out = j->out, *end = j->out + j->cap;
	int32_t lines = 0;
	int32_t at = j->next;
	int32_t stop = j->order != 0 ? j->norder : j->count;
	for (; at < stop; at++) {
		int32_t i = at;
		if (j->order != 0) {
			i = (int32_t)j->order[at];
		} else {
			uint32_t type = j->info[at] & 0xf;
			if (type == STT_SECTION || type == STT_FILE || j->strtab[j->name_off[at]] == 0)
				continue;
		}
		uint8_t *next = line(j, i, out, end);
		if (next == 0)
			break;
		out = next;
		if (++lines == EMIT_LINES) {
			at++;
			break;
		}
	}
	j->next = at;
	j->lines += lines;
	return (int32_t)(out - j->out);
}

/*
 * el_kallsyms: which of vmlinux's symbols the kallsyms table holds, in its order (the rules and
 * their sources are in src/klp/kallsyms.ts, which passes its lists as `rules`: records
 * `kind, length, bytes...` ending with kind 0).
 */
struct ks {
	const uint8_t *strtab;
	int32_t count;
	const uint32_t *name_off;
	const uint8_t *info;
	const uint32_t *shndx; /* SHN_XINDEX resolved; the reserved values kept */
	const uint8_t *raw; /* the symbol table's entries, for st_value */
	int32_t is64;
	int32_t le;
	const uint8_t *secdrop; /* 1 per section whose symbols nm prints as N/n (not allocated, has contents) */
	int32_t nsec;
	const uint8_t *rules;
	int32_t maxlen; /* KSYM_NAME_LEN: names this long or longer are dropped */
	int32_t linker_min;
	uint32_t *order; /* out: the kept symbols in kallsyms order */
	int32_t norder;
	uint64_t *keys; /* scratch: count keys each */
	uint64_t *keys2;
	uint32_t *idx2;
	uint8_t *gate; /* room for 256 bytes: by byte, which kinds of rule a name starting or ending with it may match */
};

enum { G_FIRST = 1, G_EXACT = 2, G_LAST = 4 };

static int32_t linker(const struct ks *k, uint32_t o, uint32_t e);
static int32_t consider(const struct ks *k, int32_t i, uint32_t *a, uint64_t *ka, int32_t n);

enum { R_END, R_PREFIX, R_SUFFIX, R_EXACT, R_INFIX, R_THUNK_TAIL, R_KEEP_ABSOLUTE, R_LINKER_PREFIX, R_LINKER_SUFFIX };

static inline int32_t same(const uint8_t *a, const uint8_t *b, uint32_t n)
{
	for (uint32_t k = 0; k < n; k++)
		if (a[k] != b[k])
			return 0;
	return 1;
}

static inline int32_t alnum(uint8_t c)
{
	return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

/* hit tells whether the name t[o, e) matches the rule record r */
static inline int32_t hit(const uint8_t *r, const uint8_t *t, uint32_t o, uint32_t e)
{
	uint32_t n = e - o, len = r[1];
	const uint8_t *p = r + 2;
	switch (r[0]) {
	case R_PREFIX:
		return len <= n && same(t + o, p, len);
	case R_SUFFIX:
	case R_LINKER_SUFFIX:
		return len <= n && same(t + e - len, p, len);
	case R_EXACT:
	case R_KEEP_ABSOLUTE:
		return len == n && same(t + o, p, len);
	case R_INFIX:
		for (uint32_t q = o; q + len <= e; q++)
			if (t[q] == p[0] && same(t + q, p, len))
				return 1;
		return 0;
	case R_THUNK_TAIL: {
		/* `__`, letters and digits, then the tail: the tail's last byte is not alphanumeric
		 * and the others are, so a match ends at the first such byte after `__` */
		if (n < 2 || t[o] != '_' || t[o + 1] != '_')
			return 0;
		uint32_t q = o + 2;
		while (q < e && alnum(t[q]))
			q++;
		return q < e && q + 1 >= o + 2 + len && same(t + q + 1 - len, p, len);
	}
	case R_LINKER_PREFIX:
		return len + 2 <= n && same(t + o + 2, p, len);
	}
	return 0;
}

/* rule_hit tells whether the name t[o, e) matches one rule of the given kind */
static int32_t rule_hit(const struct ks *k, int32_t kind, uint32_t o, uint32_t e)
{
	for (const uint8_t *r = k->rules; r[0] != R_END; r += 2 + r[1])
		if (r[0] == kind && hit(r, k->strtab, o, e))
			return 1;
	return 0;
}

/*
 * ignored applies the name rules to t[o, e): each kind of rule is reached only past a byte test
 * that every name it matches passes (a prefix's first byte, a suffix's last, a '.' for the
 * infixes, `__` for the thunks), so that most names compare with no rule at all.
 */
static int32_t ignored(const struct ks *k, uint32_t o, uint32_t e, int32_t dot)
{
	const uint8_t *t = k->strtab;
	uint32_t n = e - o;
	if (n == 0 || n >= (uint32_t)k->maxlen)
		return 1;
	uint8_t first = t[o], last = t[e - 1];
	int32_t under = n >= 2 && first == '_' && t[o + 1] == '_';
	if ((k->gate[first] & (G_FIRST | G_EXACT)) == 0 && (k->gate[last] & G_LAST) == 0 && !dot && !under)
		return 0; /* no rule can match: the common case */
	for (const uint8_t *r = k->rules; r[0] != R_END; r += 2 + r[1]) {
		uint32_t len = r[1];
		const uint8_t *p = r + 2;
		int32_t maybe;
		switch (r[0]) {
		case R_PREFIX:
			maybe = p[0] == first;
			break;
		case R_SUFFIX:
			maybe = p[len - 1] == last;
			break;
		case R_EXACT:
			maybe = len == n && p[0] == first;
			break;
		case R_INFIX:
			maybe = dot;
			break;
		case R_THUNK_TAIL:
			maybe = under;
			break;
		default:
			maybe = 0;
		}
		if (maybe && hit(r, t, o, e))
			return 1;
	}
	return 0;
}

/* name_scan is name_end that also tells whether the name holds a '.' */
static inline uint32_t name_scan(const uint8_t *b, uint32_t o, int32_t *dot)
{
	uint32_t d = 0;
	for (;;) {
		v128_t w = wasm_v128_load(b + o);
		uint32_t z = (uint32_t)wasm_i8x16_bitmask(wasm_i8x16_eq(w, wasm_i8x16_splat(0)));
		uint32_t p = (uint32_t)wasm_i8x16_bitmask(wasm_i8x16_eq(w, wasm_i8x16_splat('.')));
		if (z != 0) {
			d |= p & ((z & -z) - 1);
			*dot = d != 0;
			return o + (uint32_t)__builtin_ctz(z);
		}
		d |= p;
		o += 16;
	}
}

#define SHN_LORESERVE 0xff00u
#define SHN_ABS 0xfff1u
#define SHN_COMMON 0xfff2u

static inline int32_t visible(const struct ks *k, int32_t i, uint32_t o, uint32_t e, int32_t dot)
{
	uint32_t info = k->info[i], type = info & 0xf, bind = info >> 4, sh = k->shndx[i];
	if (type == STT_SECTION || type == STT_FILE || sh == 0 || bind == 10 /* STB_GNU_UNIQUE */)
		return 0;
	if (sh == SHN_ABS) {
		if (bind != 1 && bind != 2)
			return 0;
		if (!rule_hit(k, R_KEEP_ABSOLUTE, o, e))
			return 0;
	} else if (sh != SHN_COMMON && sh < SHN_LORESERVE && sh < (uint32_t)k->nsec && k->secdrop[sh] != 0) {
		return 0;
	}
	return !ignored(k, o, e, dot);
}

static inline uint32_t load32(const uint8_t *p, int32_t le)
{
	uint32_t v;
	__builtin_memcpy(&v, p, 4);
	return le ? v : __builtin_bswap32(v);
}

static inline uint64_t value_of(const struct ks *k, int32_t i)
{
	if (!k->is64)
		return load32(k->raw + (uint32_t)i * 16 + 4, k->le);
	const uint8_t *p = k->raw + (uint32_t)i * 24 + 8;
	return k->le ? ((uint64_t)load32(p + 4, 1) << 32) | load32(p, 1) : ((uint64_t)load32(p, 0) << 32) | load32(p + 4, 0);
}

/* tie orders two symbols at one address as kallsyms.c's compare_symbols does, then nm -n: name, table index */
static int32_t tie(const struct ks *k, uint32_t a, uint32_t b)
{
	uint32_t ia = k->info[a], ib = k->info[b];
	int32_t wa = (ia >> 4) == 2 && (ia & 0xf) != 1, wb = (ib >> 4) == 2 && (ib & 0xf) != 1; /* weak, not a weak object (V) */
	if (wa != wb)
		return wa - wb;
	const uint8_t *t = k->strtab;
	uint32_t oa = k->name_off[a], ob = k->name_off[b];
	uint32_t ea = name_end(t, oa), eb = name_end(t, ob);
	int32_t la = linker(k, oa, ea), lb = linker(k, ob, eb);
	if (la != lb)
		return la - lb;
	uint32_t ua = 0, ub = 0;
	while (oa + ua < ea && t[oa + ua] == '_')
		ua++;
	while (ob + ub < eb && t[ob + ub] == '_')
		ub++;
	if (ua != ub)
		return (int32_t)ua - (int32_t)ub;
	for (;; oa++, ob++) {
		if (t[oa] != t[ob])
			return (int32_t)t[oa] - (int32_t)t[ob];
		if (t[oa] == 0)
			break;
	}
	return a < b ? -1 : a > b;
}

/* sort_run sorts a[0, n) (one address) by tie, with tmp[0, n) as room */
static void sort_run(const struct ks *k, uint32_t *a, uint32_t *tmp, int32_t n)
{
	if (n <= 16) {
		for (int32_t i = 1; i < n; i++) {
			uint32_t x = a[i];
			int32_t j = i - 1;
			while (j >= 0 && tie(k, a[j], x) > 0) {
				a[j + 1] = a[j];
				j--;
			}
			a[j + 1] = x;
		}
		return;
	}
	int32_t h = n / 2;
	sort_run(k, a, tmp, h);
	sort_run(k, a + h, tmp, n - h);
	int32_t i = 0, j = h, o = 0;
	while (i < h && j < n)
		tmp[o++] = tie(k, a[i], a[j]) <= 0 ? a[i++] : a[j++];
	while (i < h)
		tmp[o++] = a[i++];
	while (j < n)
		tmp[o++] = a[j++];
	for (int32_t m = 0; m < n; m++)
		a[m] = tmp[m];
}

/* init_gate fills k->gate from the rules */
static void init_gate(struct ks *k)
{
	for (int32_t c = 0; c < 256; c++)
		k->gate[c] = 0;
	for (const uint8_t *r = k->rules; r[0] != R_END; r += 2 + r[1]) {
		if (r[0] == R_PREFIX)
			k->gate[r[2]] |= G_FIRST;
		else if (r[0] == R_EXACT)
			k->gate[r[2]] |= G_EXACT;
		else if (r[0] == R_SUFFIX)
			k->gate[r[2 + r[1] - 1]] |= G_LAST;
	}
}

/* linker tells whether the name t[o, e) looks linker-provided (kallsyms.c's guess, a tie-break only) */
static int32_t linker(const struct ks *k, uint32_t o, uint32_t e)
{
	const uint8_t *t = k->strtab;
	return (int32_t)(e - o) >= k->linker_min && t[o] == '_' && t[o + 1] == '_' &&
	       (rule_hit(k, R_LINKER_PREFIX, o, e) || rule_hit(k, R_LINKER_SUFFIX, o, e));
}

/*
 * el_visible tells whether kallsyms holds symbol i of the job's table, el_linker whether its name
 * looks linker-provided: the rules one symbol at a time, for kallsyms.ts's callers and tests.
 */
int32_t el_visible(struct ks *k, int32_t i)
{
	init_gate(k);
	uint32_t *a = k->order;
	uint64_t *ka = k->keys;
	return consider(k, i, a, ka, 0);
}

int32_t el_linker(struct ks *k, int32_t i)
{
	uint32_t o = k->name_off[i];
	return linker(k, o, name_end(k->strtab, o));
}

/* consider appends symbol i and its address to (a, ka)[n] when kallsyms holds it; returns the new n (a function of its own: see line()) */
__attribute__((noinline)) static int32_t consider(const struct ks *k, int32_t i, uint32_t *a, uint64_t *ka, int32_t n)
{
	uint32_t type = k->info[i] & 0xf;
	if (type == STT_SECTION || type == STT_FILE)
		return n;
	uint32_t o = k->name_off[i];
	int32_t dot;
	uint32_t e = name_scan(k->strtab, o, &dot);
	if (!visible(k, i, o, e, dot))
		return n;
	a[n] = (uint32_t)i;
	ka[n] = value_of(k, i);
	return n + 1;
}

/*
 * radix_pass moves (ka, a)[0, n) to (kb, b) ordered by the byte of the keys at `shift`, keeping
 * the order of equal bytes; returns 0, moving nothing, when every key has the same byte there.
 * A function of its own: see line() on the baseline compiler's loops.
 */
__attribute__((noinline)) static int32_t radix_pass(const uint64_t *ka, const uint32_t *a, uint64_t *kb, uint32_t *b, int32_t n, int32_t shift)
{
	uint32_t count[256];
	for (int32_t d = 0; d < 256; d++)
		count[d] = 0;
	for (int32_t m = 0; m < n; m++)
		count[(ka[m] >> shift) & 0xff]++;
	if (n == 0 || count[(ka[0] >> shift) & 0xff] == (uint32_t)n)
		return 0;
	uint32_t sum = 0;
	for (int32_t d = 0; d < 256; d++) {
		uint32_t c = count[d];
		count[d] = sum;
		sum += c;
	}
	for (int32_t m = 0; m < n; m++) {
		uint32_t to = count[(ka[m] >> shift) & 0xff]++;
		kb[to] = ka[m];
		b[to] = a[m];
	}
	return 1;
}

/* el_kallsyms writes the kept symbols to k->order in kallsyms order and returns how many */
int32_t el_kallsyms(struct ks *k)
{
	uint32_t *a = k->order, *b = k->idx2;
	uint64_t *ka = k->keys, *kb = k->keys2;
	int32_t n = 0;
	init_gate(k);
	for (int32_t i = 1; i < k->count; i++)
		n = consider(k, i, a, ka, n);
	/* by address: a stable LSD radix sort, 8 bits a pass, passes whose digit never differs skipped */
	for (int32_t shift = 0; shift < 64; shift += 8) {
		if (radix_pass(ka, a, kb, b, n, shift)) {
			uint64_t *tk = ka;
			ka = kb;
			kb = tk;
			uint32_t *ta = a;
			a = b;
			b = ta;
		}
	}
	if (a != k->order) {
		for (int32_t m = 0; m < n; m++)
			k->order[m] = a[m];
		b = a;
		a = k->order;
	}
	/* equal addresses: the rest of the order */
	for (int32_t s = 0; s < n;) {
		int32_t e = s + 1;
		while (e < n && ka[e] == ka[s])
			e++;
		if (e - s > 1)
			sort_run(k, a + s, b, e - s);
		s = e;
	}
	k->norder = n;
	return n;
}
