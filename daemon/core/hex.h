/*
 * hex.h — hexadecimal digits, for %XX escapes, quoted-printable and key files.
 */
#ifndef PALIER_CORE_HEX_H
#define PALIER_CORE_HEX_H

/* The value of a hexadecimal digit (either case), or -1. */
int hex_digit(int c);

#endif
