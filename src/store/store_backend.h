/*
 * store_backend: what a database backend implements for store.c. Every function runs on the
 * store thread, synchronously, and is never called concurrently with another.
 */
#ifndef CMMO_STORE_BACKEND_H
#define CMMO_STORE_BACKEND_H

#include "store/store.h"

typedef struct store_backend {
    void *db;
    /* Returns STORE_OK (filling *out), STORE_NOT_FOUND or STORE_ERROR. */
    int (*find)(void *db, const char *username, store_account *out);
    /* Returns STORE_OK (filling *out), STORE_TAKEN or STORE_ERROR; atomic. */
    int (*create)(void *db, const char *username, const char *hash, int avatar, store_account *out);
    /* Returns STORE_OK or STORE_ERROR; one transaction. */
    int (*save)(void *db, const store_position *positions, size_t n);
    void (*close)(void *db);
} store_backend;

/* Opens a SQLite database file with its schema (store_sqlite.c). Returns 0 or -1. */
int store_sqlite_open(const char *path, store_backend *out);

/* Connects to PostgreSQL (a postgres:// or postgresql:// URL, as libpq reads it), creating or
 * migrating the schema (store_pg.c). Blocks the calling thread while connecting. Returns 0 or -1,
 * logged without the URL's password. */
int store_pg_open(const char *url, store_backend *out);

/* 1 if url is a postgres:// or postgresql:// URL that libpq can parse, else 0. No network. */
int store_pg_url_valid(const char *url);

#endif
