/*
 * strmap.c - the scanner's string-keyed hash map: open addressing with
 * linear probing, FNV-1a hashes, and growth at half full.  It has no
 * removal, so probing never meets a deleted slot.
 */
#include <stdlib.h>
#include <string.h>

#include "scanner_int.h"

static uint64_t str_hash(const char *s)
{
	uint64_t h = 14695981039346656037ULL;

	for (; *s != '\0'; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ULL;
	}
	return h;
}

void str_map_init(struct str_map *m)
{
	memset(m, 0, sizeof(*m));
}

void str_map_release(struct str_map *m, void (*free_value)(void *))
{
	for (size_t i = 0; i < m->cap; i++) {
		if (m->slots[i].key == NULL)
			continue;
		free(m->slots[i].key);
		if (free_value != NULL)
			free_value(m->slots[i].value);
	}
	free(m->slots);
	memset(m, 0, sizeof(*m));
}

static struct str_map_slot *slot_for(const struct str_map *m, const char *key, uint64_t hash)
{
	size_t mask = m->cap - 1;

	for (size_t i = hash & mask;; i = (i + 1) & mask) {
		struct str_map_slot *slot = &m->slots[i];

		if (slot->key == NULL || (slot->hash == hash && strcmp(slot->key, key) == 0))
			return slot;
	}
}

static bool grow(struct str_map *m)
{
	size_t cap = m->cap == 0 ? 16 : m->cap * 2;
	struct str_map_slot *old = m->slots;
	size_t old_cap = m->cap;

	m->slots = calloc(cap, sizeof(*m->slots));
	if (m->slots == NULL) {
		m->slots = old;
		return false;
	}
	m->cap = cap;
	for (size_t i = 0; i < old_cap; i++) {
		if (old[i].key != NULL)
			*slot_for(m, old[i].key, old[i].hash) = old[i];
	}
	free(old);
	return true;
}

bool str_map_put(struct str_map *m, const char *key, void *value)
{
	uint64_t hash = str_hash(key);
	struct str_map_slot *slot;

	if ((m->count + 1) * 2 > m->cap && !grow(m))
		return false;
	slot = slot_for(m, key, hash);
	if (slot->key == NULL) {
		slot->key = strdup(key);
		if (slot->key == NULL)
			return false;
		slot->hash = hash;
		m->count++;
	}
	slot->value = value;
	return true;
}

bool str_map_find(const struct str_map *m, const char *key, void **out_value)
{
	struct str_map_slot *slot;

	if (m->cap == 0)
		return false;
	slot = slot_for(m, key, str_hash(key));
	if (slot->key == NULL)
		return false;
	if (out_value != NULL)
		*out_value = slot->value;
	return true;
}
