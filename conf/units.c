/*
 * units.c - strict parsers for configuration values (see units.h)
 */
#include "units.h"

#include <errno.h>
#include <string.h>

#include "wire/eth.h"
#include "wire/ipv4.h"

struct unit {
	const char *name;
	uint64_t scale;
};

/*
 * parse_scaled() - Parse "DIGITS[.DIGITS]UNIT" where UNIT is one of @units
 * @bare_ok: a number without unit is allowed (scale 1), else only "0"
 */
static int parse_scaled(const char *s, const struct unit *units, bool bare_ok, uint64_t max,
			uint64_t *out)
{
	const char *p = s;
	unsigned __int128 ip = 0, frac = 0, fscale = 1;
	bool digits = false;

	while (*p >= '0' && *p <= '9') {
		ip = ip * 10 + (unsigned)(*p - '0');
		if (ip > UINT64_MAX)
			return -ERANGE;
		digits = true;
		p++;
	}
	if (*p == '.') {
		p++;
		bool fdigits = false;
		while (*p >= '0' && *p <= '9') {
			if (fscale >= 1000000000000000000ull)
				return -ERANGE;  /* more than 18 fractional digits */
			frac = frac * 10 + (unsigned)(*p - '0');
			fscale *= 10;
			fdigits = true;
			p++;
		}
		if (!fdigits)
			return -EINVAL;
	}
	if (!digits)
		return -EINVAL;

	uint64_t scale = 0;
	if (*p == '\0') {
		if (bare_ok)
			scale = 1;
		else if (ip == 0 && frac == 0)
			scale = 1;
		else
			return -EINVAL;
	} else {
		for (const struct unit *u = units; u->name; u++)
			if (!strcmp(p, u->name)) {
				scale = u->scale;
				break;
			}
		if (!scale)
			return -EINVAL;
	}
	unsigned __int128 v = ip * scale;
	unsigned __int128 f = frac * scale;
	if (f % fscale)
		return -ERANGE;  /* finer than the resolution */
	v += f / fscale;
	if (v > max)
		return -ERANGE;
	*out = (uint64_t)v;
	return 0;
}

int units_parse_u64(const char *s, uint64_t max, uint64_t *out)
{
	static const struct unit none[] = { { NULL, 0 } };
	if (strchr(s, '.'))
		return -EINVAL;
	return parse_scaled(s, none, true, max, out);
}

int units_parse_duration(const char *s, uint64_t *ns)
{
	static const struct unit u[] = {
		{ "ns", 1 },
		{ "us", 1000ull },
		{ "ms", 1000000ull },
		{ "s", 1000000000ull },
		{ "min", 60000000000ull },
		{ "h", 3600000000000ull },
		{ NULL, 0 },
	};
	return parse_scaled(s, u, false, UINT64_MAX, ns);
}

int units_parse_ppm(const char *s, uint32_t *ppm)
{
	static const struct unit u[] = { { "%", 10000 }, { "ppm", 1 }, { NULL, 0 } };
	uint64_t v;
	int rc = parse_scaled(s, u, false, 1000000, &v);
	if (rc)
		return rc;
	*ppm = (uint32_t)v;
	return 0;
}

int units_parse_size(const char *s, uint64_t *bytes)
{
	static const struct unit u[] = {
		{ "B", 1 },
		{ "K", 1ull << 10 }, { "KiB", 1ull << 10 }, { "k", 1ull << 10 },
		{ "M", 1ull << 20 }, { "MiB", 1ull << 20 },
		{ "G", 1ull << 30 }, { "GiB", 1ull << 30 },
		{ NULL, 0 },
	};
	return parse_scaled(s, u, true, UINT64_MAX, bytes);
}

int units_parse_bool(const char *s, bool *out)
{
	static const char *const yes[] = { "true", "yes", "on", "1" };
	static const char *const no[] = { "false", "no", "off", "0" };
	for (size_t i = 0; i < 4; i++) {
		if (!strcmp(s, yes[i])) {
			*out = true;
			return 0;
		}
		if (!strcmp(s, no[i])) {
			*out = false;
			return 0;
		}
	}
	return -EINVAL;
}

int units_parse_mac(const char *s, uint8_t mac[6])
{
	/* eth_addr_parse() takes ':' only: "02-00-..." is turned into "02:00-..." */
	char buf[ETH_ADDR_STRLEN];
	if (strlen(s) != ETH_ADDR_STRLEN - 1)
		return -EINVAL;
	memcpy(buf, s, ETH_ADDR_STRLEN);
	if (buf[2] == '-' && !strchr(buf, ':'))
		for (char *p = buf; *p; p++)
			if (*p == '-')
				*p = ':';
	return eth_addr_parse(buf, mac);
}

static int hex_digit(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
	       : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

int units_parse_hex(const char *s, uint8_t *out, size_t len)
{
	if (strlen(s) != 2 * len)
		return -EINVAL;
	for (size_t i = 0; i < len; i++) {
		int hi = hex_digit(s[2 * i]), lo = hex_digit(s[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return -EINVAL;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

int units_parse_ipv4(const char *s, uint32_t *out)
{
	return tapir_ipv4_addr_parse(s, out);  /* strict: no leading zeros (octal in inet_aton) */
}
