/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * replay.c - a main() for the fuzz targets without libFuzzer: feeds every
 * file in the given directories (or files) to LLVMFuzzerTestOneInput.
 * With no arguments it replays REPLAY_CORPUS, which is how make check runs
 * it. An empty corpus is a failure, so a lost corpus does not pass quietly.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz.h"

#define REPLAY_INPUT_MAX	(1024 * 1024)
#define REPLAY_PATH_MAX		4096

/* The build names each target's committed corpus (see fuzz/local.mk). */
#ifndef REPLAY_CORPUS
#define REPLAY_CORPUS		NULL
#endif
static const char *const corpus = REPLAY_CORPUS;

static int
replay_file(const char *path, size_t *countp)
{
	struct stat st;
	uint8_t *buf = NULL;
	size_t len = 0;
	ssize_t n;
	int fd, r = -1;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1 ||
	    fstat(fd, &st) == -1) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode) || st.st_size > REPLAY_INPUT_MAX) {
		fprintf(stderr, "%s: not a regular file of at most %d bytes\n",
		    path, REPLAY_INPUT_MAX);
		goto out;
	}
	if ((buf = malloc((size_t)st.st_size + 1)) == NULL)
		goto out;
	while (len < (size_t)st.st_size) {
		if ((n = read(fd, buf + len, (size_t)st.st_size - len)) <= 0) {
			if (n < 0 && errno == EINTR)
				continue;
			fprintf(stderr, "%s: short read\n", path);
			goto out;
		}
		len += (size_t)n;
	}
	LLVMFuzzerTestOneInput(buf, len);
	(*countp)++;
	r = 0;
 out:
	if (fd != -1)
		close(fd);
	free(buf);
	return r;
}

static int
replay_path(const char *path, size_t *countp)
{
	char child[REPLAY_PATH_MAX];
	struct dirent *de;
	struct stat st;
	DIR *dir;
	int r = 0;

	if (stat(path, &st) == -1) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode))
		return replay_file(path, countp);
	if ((dir = opendir(path)) == NULL) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		return -1;
	}
	while ((de = readdir(dir)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if (snprintf(child, sizeof(child), "%s/%s", path,
		    de->d_name) >= (int)sizeof(child)) {
			r = -1;
			continue;
		}
		if (replay_file(child, countp) != 0)
			r = -1;
	}
	closedir(dir);
	return r;
}

int
main(int argc, char **argv)
{
	size_t count = 0;
	int i, r = 0;

	if (argc < 2) {
		if (corpus == NULL) {
			fprintf(stderr, "usage: %s DIR|FILE...\n", argv[0]);
			return 2;
		}
		r = replay_path(corpus, &count);
	}
	for (i = 1; i < argc; i++)
		if (replay_path(argv[i], &count) != 0)
			r = -1;
	printf("%s: %zu inputs replayed\n", argv[0], count);
	if (count == 0) {
		fprintf(stderr, "%s: no inputs\n", argv[0]);
		return 1;
	}
	return r == 0 ? 0 : 1;
}
