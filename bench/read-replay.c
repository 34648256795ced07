/*
 * read-replay: makes a given list of positional reads and nothing else, for bench/ext-reads.sh.
 *
 *   gcc -O2 -o read-replay bench/read-replay.c && ./read-replay LIST
 *
 * LIST has one read per line, "PATH<TAB>OFFSET<TAB>LENGTH", in the order they were made (what
 * strace saw a run of ours do). The list is loaded first; then each run of lines naming the same
 * file is one open, the preads, one close. Of each read only the first and last bytes are
 * looked at (a checksum is printed, with the number of reads and bytes), so the time is that of
 * the file system calls and the kernel's copies alone: a floor under any program that reads
 * exactly what the traced run read, even one that looks at no more of it.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct op {
	const char *path; /* shared by consecutive reads of one file */
	long long off;
	size_t len;
};

static void *grow(void *p, size_t n)
{
	p = realloc(p, n);
	if (!p) {
		perror("read-replay: realloc");
		exit(1);
	}
	return p;
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: read-replay LIST\n");
		return 2;
	}
	FILE *f = fopen(argv[1], "r");
	if (!f) {
		perror(argv[1]);
		return 1;
	}
	struct op *ops = NULL;
	size_t n = 0, cap = 0, most = 0;
	char *line = NULL;
	size_t linecap = 0;
	const char *prev = NULL;
	while (getline(&line, &linecap, f) > 0) {
		char *t1 = strchr(line, '\t'), *t2 = t1 ? strchr(t1 + 1, '\t') : NULL;
		if (!t2) {
			fprintf(stderr, "read-replay: %s: line %zu: want PATH<TAB>OFFSET<TAB>LENGTH\n", argv[1], n + 1);
			return 1;
		}
		*t1 = 0;
		if (n == cap) {
			cap = cap ? 2 * cap : 4096;
			ops = grow(ops, cap * sizeof *ops);
		}
		if (!prev || strcmp(prev, line) != 0)
			prev = strdup(line);
		ops[n].path = prev;
		ops[n].off = strtoll(t1 + 1, NULL, 10);
		ops[n].len = strtoull(t2 + 1, NULL, 10);
		if (ops[n].len > most)
			most = ops[n].len;
		n++;
	}
	fclose(f);
	unsigned char *buf = grow(NULL, most ? most : 1);
	unsigned long long sum = 0, bytes = 0;
	int fd = -1;
	for (size_t i = 0; i < n; i++) {
		if (i == 0 || ops[i].path != ops[i - 1].path) {
			if (fd >= 0)
				close(fd);
			fd = open(ops[i].path, O_RDONLY | O_CLOEXEC);
			if (fd < 0) {
				perror(ops[i].path);
				return 1;
			}
		}
		ssize_t r = pread(fd, buf, ops[i].len, ops[i].off);
		if (r < 0) {
			perror(ops[i].path);
			return 1;
		}
		if (r > 0)
			sum += buf[0] + buf[r - 1];
		bytes += (unsigned long long)r;
	}
	if (fd >= 0)
		close(fd);
	printf("%zu reads, %llu bytes, checksum %llu\n", n, bytes, sum);
	return 0;
}
