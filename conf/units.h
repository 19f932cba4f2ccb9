/*
 * units.h - strict parsers for configuration values (numbers with units)
 *
 * Shared by the impairment wrapper, the daemon's configuration and the CLI.  Every
 * parser takes the whole NUL-terminated string (no surrounding whitespace, no
 * sign, decimal digits only) and either stores a value and returns 0, or
 * leaves @out untouched and returns -EINVAL (malformed) or -ERANGE (out of
 * range, overflow, or finer than the unit resolution).  Pure functions, no
 * global state.
 */
#ifndef TAPIR_UNITS_H
#define TAPIR_UNITS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Decimal integer 0..@max.  Return: 0, -EINVAL or -ERANGE */
int units_parse_u64(const char *s, uint64_t max, uint64_t *out);

/*
 * Duration with a unit: ns, us, ms, s, min, h ("10ms", "1.5s", "500us");
 * a bare "0" is allowed.  Fractions must give whole nanoseconds.
 * Return: 0, -EINVAL or -ERANGE
 */
int units_parse_duration(const char *s, uint64_t *ns);

/*
 * Rate in parts per million: "1%", "0.5%", "2500ppm", bare "0"; at most
 * 100% (1,000,000 ppm).  Return: 0, -EINVAL or -ERANGE
 */
int units_parse_ppm(const char *s, uint32_t *ppm);

/*
 * Size in bytes: bare number, or with B, K/KiB, M/MiB, G/GiB (powers of
 * 1024): "4194304", "4MiB", "64K".  Return: 0, -EINVAL or -ERANGE
 */
int units_parse_size(const char *s, uint64_t *bytes);

/* true/false, yes/no, on/off, 1/0.  Return: 0 or -EINVAL */
int units_parse_bool(const char *s, bool *out);

/* "02:00:5e:00:53:01" (or '-' separators), two hex digits per octet:
 * eth_addr_parse() of libstack/wire/eth.h, with '-' separators allowed. */
int units_parse_mac(const char *s, uint8_t mac[6]);

/* Exactly 2 * @len hex digits (either case) into @len bytes.  Return: 0 or -EINVAL */
int units_parse_hex(const char *s, uint8_t *out, size_t len);

/* Dotted quad "a.b.c.d", 1-3 digits per part, no leading zeros; host order.
 * Stricter than tapir_ipv4_addr_parse() (stack.h), which takes leading zeros (octal
 * in inet_aton): this goes when that refuses them too. */
int units_parse_ipv4(const char *s, uint32_t *out);

#endif /* TAPIR_UNITS_H */
