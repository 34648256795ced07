/*
 * linescan.c: the inner loop of the converter's map scan (src/klp/map-scan.ts), compiled to
 * WebAssembly (with SIMD) by scripts/build-wasm.sh.
 *
 * Every pattern the converter looks for in a map ends with the same terminator byte: `<name>\n`
 * in a 0.1 map, `<name> ` in an ext map (a name ends at a space there), `\n<name> ` for a whole
 * name. So instead of sliding a window over the bytes, ls_scan visits each terminator (64 bytes
 * at a time with SIMD compares) and asks whether the bytes before it end in a pattern: the last
 * k bytes (k = the shortest pattern body, at most 8) are hashed into a 65,536-bit filter, and
 * only a filter hit compares the patterns of that hash bucket. With `objects`, it also reports
 * each line that starts with `*` (an object line). A 30 MB map has ~1.3 M newlines; the filter
 * rejects all but a few hundred.
 *
 * No libc, no stack use, no globals: the caller lays everything out in linear memory
 * (map-scan.ts, LineScan) and reads the results from `out`.
 */
#include <stdint.h>
#include <wasm_simd128.h>

/* chain heads: 16 KB instead of one per filter bit (a chain is compared in full anyway) */
#define HEAD 4096

struct ls {
	const uint32_t *filter; /* [1 << 16 bits]: hashes of every pattern body's last k bytes */
	const int32_t *head;    /* [HEAD]: first pattern whose hash ends in those bits, or -1 */
	const int32_t *next;    /* [npat]: the next pattern of the same hash, or -1 */
	const int32_t *pofs;    /* [npat]: where pattern k's body starts in pat */
	const int32_t *plen;    /* [npat]: body length (the pattern without its terminator) */
	const uint8_t *pat;     /* every pattern's body */
	int32_t k;              /* bytes hashed, 1..8 */
	int32_t term;           /* the terminator byte */
	int32_t objects;        /* 1: also report lines starting with '*' */
	int32_t resume;         /* out: the chunk offset to call ls_scan again from */
	uint8_t *otext;         /* out: each object line's text after its '*', '\n'-terminated */
	int32_t ocap;           /* otext's size */
	int32_t olen;           /* out: bytes written to otext by this call */
	int32_t overflow;       /* out: 1 when an object line did not fit in otext (not copied) */
};

static inline uint64_t load64(const uint8_t *p)
{
	uint64_t v;
	__builtin_memcpy(&v, p, 8);
	return v;
}

/* the hash of the k bytes before p: little-endian, so they are the top k bytes of the word */
static inline uint32_t tail_hash(const uint8_t *p, int32_t k)
{
	uint64_t w = load64(p - 8) >> (64 - 8 * k);
	return (uint32_t)((w * 0x9e3779b97f4a7c15ull) >> 48);
}

/* match appends (pattern, start) for each pattern of h's chain whose body ends just before q */
static int32_t match(const struct ls *s, const uint8_t *b, int32_t q, uint32_t h, int32_t *out, int32_t n)
{
	for (int32_t p = s->head[h & (HEAD - 1)]; p >= 0; p = s->next[p]) {
		int32_t len = s->plen[p];
		int32_t at = q - len;
		if (at < 0)
			continue;
		const uint8_t *pat = s->pat + s->pofs[p];
		int32_t j = 0;
		while (j < len && b[at + j] == pat[j])
			j++;
		if (j == len) {
			out[2 * n] = p;
			out[2 * n + 1] = at;
			n++;
		}
	}
	return n;
}

/* object_line appends the pair of the object line whose '*' is at q and copies its text */
static int32_t object_line(struct ls *s, const uint8_t *b, int32_t q, int32_t end, int32_t *out, int32_t n)
{
	int32_t e = q + 1;
	while (e < end && b[e] != '\n')
		e++;
	int32_t len = e - (q + 1);
	if (s->olen + len + 1 <= s->ocap) {
		__builtin_memcpy(s->otext + s->olen, b + q + 1, (uint32_t)len);
		s->otext[s->olen + len] = '\n';
		s->olen += len + 1;
	} else {
		s->overflow = 1;
	}
	out[2 * n] = -1 - len;
	out[2 * n + 1] = q;
	return n + 1;
}

/* block handles a 64-byte block that holds a '*' or the chunk's end: terminators and stars in order */
static int32_t block(struct ls *s, const uint8_t *b, int32_t i, int32_t end, uint64_t mask, uint64_t stars, int32_t *out, int32_t n)
{
	uint64_t live = end - i < 64 ? (1ull << (end - i)) - 1 : ~0ull;
	mask &= live;
	stars &= live;
	while ((mask | stars) != 0) {
		uint64_t bit = (mask | stars) & -(mask | stars);
		int32_t q = i + __builtin_ctzll(bit);
		if (mask & bit) {
			uint32_t h = tail_hash(b + q, s->k);
			if ((s->filter[h >> 5] >> (h & 31)) & 1)
				n = match(s, b, q, h, out, n);
		}
		if ((stars & bit) && b[q - 1] == '\n')
			n = object_line(s, b, q, end, out, n);
		mask &= ~bit;
		stars &= ~bit;
	}
	return n;
}

/*
 * ls_scan visits b[i, end) and appends pairs to out, in position order (a bucket lists longer
 * bodies first): (pattern, start of the pattern) for each pattern that ends at a terminator, and
 * (-1 - length of its text, offset of the '*') for each object line, whose text (the line after
 * the '*') goes to s->otext. b[-8, 0) must be readable (its bytes never make
 * a match). It stops before a block of 64 bytes when fewer than 64 * (npat + 1) pairs of the cap
 * are left and stores where it stopped in s->resume (a multiple of 64 from i, or end). Returns
 * the number of pairs written.
 */
/* bits64 is the 64-bit mask of the bytes of b[i, i + 64) equal to c */
static inline uint64_t bits64(const uint8_t *b, int32_t i, v128_t c)
{
	uint64_t m0 = (uint32_t)wasm_i8x16_bitmask(wasm_i8x16_eq(wasm_v128_load(b + i), c));
	uint64_t m1 = (uint32_t)wasm_i8x16_bitmask(wasm_i8x16_eq(wasm_v128_load(b + i + 16), c));
	uint64_t m2 = (uint32_t)wasm_i8x16_bitmask(wasm_i8x16_eq(wasm_v128_load(b + i + 32), c));
	uint64_t m3 = (uint32_t)wasm_i8x16_bitmask(wasm_i8x16_eq(wasm_v128_load(b + i + 48), c));
	return m0 | m1 << 16 | m2 << 32 | m3 << 48;
}

int32_t ls_scan(struct ls *s, const uint8_t *restrict b, int32_t i, int32_t end, int32_t *restrict out, int32_t cap, int32_t npat)
{
	const v128_t vt = wasm_i8x16_splat((int8_t)s->term);
	const v128_t vs = wasm_i8x16_splat('*');
	const int32_t k = s->k, objects = s->objects;
	const uint32_t *restrict filter = s->filter;
	const int32_t limit = cap - 64 * (npat + 1);
	int32_t n = 0;
	s->olen = 0;
	s->overflow = 0;
	for (; i < end && n <= limit; i += 64) {
		uint64_t mask = bits64(b, i, vt);
		uint64_t stars = objects ? bits64(b, i, vs) : 0;
		if (__builtin_expect(stars != 0 || end - i < 64, 0)) {
			n = block(s, b, i, end, mask, stars, out, n);
			continue;
		}
		while (mask != 0) {
			int32_t q = i + __builtin_ctzll(mask);
			mask &= mask - 1;
			uint32_t h = tail_hash(b + q, k);
			if (__builtin_expect((filter[h >> 5] >> (h & 31)) & 1, 0))
				n = match(s, b, q, h, out, n);
		}
	}
	s->resume = i < end ? i : end;
	return n;
}

/* ls_hash is tail_hash for the caller building the tables: the hash of the k bytes before p */
int32_t ls_hash(const uint8_t *p, int32_t k)
{
	return (int32_t)tail_hash(p, k);
}
