/*
 * read-floor: the physical floor of `klp-convert symbols` on a kernel build tree, for bench/.
 *
 *   gcc -O2 -o read-floor bench/read-floor.c && ./read-floor TREE
 *
 * For vmlinux and every modules.order entry (<stem>.o if it exists, else <stem>.ko), it does
 * what any map generator must do at the least: open the file, pread the ELF header, pread the
 * section header table, and pread .symtab and the string table it links to; then close. It
 * touches every byte read (a checksum is printed) and does nothing else: no sorting, no output.
 * ELF64 little-endian only (the corpora are x86_64); anything else is an error.
 */
#define _GNU_SOURCE
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char *buf;
static size_t bufsize;

static void *room(size_t n)
{
	if (n > bufsize) {
		free(buf);
		bufsize = n * 2;
		buf = malloc(bufsize);
		if (!buf) {
			perror("read-floor: malloc");
			exit(1);
		}
	}
	return buf;
}

static void readat(int fd, const char *path, void *dst, size_t n, off_t at)
{
	size_t done = 0;
	while (done < n) {
		ssize_t r = pread(fd, (char *)dst + done, n - done, at + (off_t)done);
		if (r <= 0) {
			fprintf(stderr, "read-floor: %s: short read at %lld\n", path, (long long)at);
			exit(1);
		}
		done += (size_t)r;
	}
}

static unsigned long sum(const unsigned char *p, size_t n)
{
	unsigned long s = 0;
	for (size_t i = 0; i < n; i += 64)
		s += p[i];
	return s;
}

/* one object: returns a checksum of the bytes read */
static unsigned long object(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "read-floor: %s: %s\n", path, strerror(errno));
		exit(1);
	}
	Elf64_Ehdr eh;
	readat(fd, path, &eh, sizeof eh, 0);
	if (memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 || eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_ident[EI_DATA] != ELFDATA2LSB) {
		fprintf(stderr, "read-floor: %s: not ELF64 little-endian\n", path);
		exit(1);
	}
	size_t shn = eh.e_shnum;
	Elf64_Shdr *sh = malloc(shn * sizeof *sh);
	readat(fd, path, sh, shn * sizeof *sh, (off_t)eh.e_shoff);
	unsigned long s = 0;
	for (size_t i = 0; i < shn; i++) {
		if (sh[i].sh_type != SHT_SYMTAB || sh[i].sh_link >= shn)
			continue;
		Elf64_Shdr *st = &sh[i], *str = &sh[st->sh_link];
		unsigned char *p = room(st->sh_size + str->sh_size);
		readat(fd, path, p, st->sh_size, (off_t)st->sh_offset);
		readat(fd, path, p + st->sh_size, str->sh_size, (off_t)str->sh_offset);
		s += sum(p, st->sh_size + str->sh_size);
		break;
	}
	free(sh);
	close(fd);
	return s;
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: read-floor TREE\n");
		return 2;
	}
	const char *tree = argv[1];
	char path[8192];
	snprintf(path, sizeof path, "%s/vmlinux", tree);
	unsigned long s = object(path);
	size_t n = 1;
	snprintf(path, sizeof path, "%s/modules.order", tree);
	FILE *order = fopen(path, "r");
	if (!order) {
		fprintf(stderr, "read-floor: %s: %s\n", path, strerror(errno));
		return 1;
	}
	char line[4096];
	while (fgets(line, sizeof line, order)) {
		size_t l = strcspn(line, "\n");
		line[l] = 0;
		if (l == 0)
			continue;
		if (l > 3 && strcmp(line + l - 3, ".ko") == 0)
			line[l -= 3] = 0;
		else if (l > 2 && strcmp(line + l - 2, ".o") == 0)
			line[l -= 2] = 0;
		snprintf(path, sizeof path, "%s/%s.o", tree, line);
		if (access(path, F_OK) != 0)
			snprintf(path, sizeof path, "%s/%s.ko", tree, line);
		s += object(path);
		n++;
	}
	fclose(order);
	printf("%zu objects, checksum %lu\n", n, s);
	return 0;
}
