/*
 * buf.h - a growable byte buffer with a maximum size fixed at creation.
 *
 * data is always NUL-terminated (the terminator is not counted in len), so a
 * buffer holding text can be passed to string functions directly.
 */
#ifndef LCR_BUF_H
#define LCR_BUF_H

#include <stdbool.h>
#include <stddef.h>

struct buf {
	char *data;
	size_t len;
	size_t cap;
	size_t max; /* appends that would pass this fail */
};

void buf_init(struct buf *b, size_t max);
void buf_release(struct buf *b);

/* Append n bytes; return false (and leave b unchanged) past max or on OOM. */
bool buf_append(struct buf *b, const void *data, size_t n);
bool buf_appendf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
