/*
 * peek.h - the few keys of a tapird configuration that the tapir CLI needs
 *
 * `tapir up` makes the TAP's kernel side before tapird starts: it needs the
 * interface name, the MTU, the address and the gateway, and whether
 * [gateway] enabled makes tapird the namespace's router.  config_peek_file()
 * reads them with the same INI reader and the same key tables as tapird
 * (so the same values are accepted, with the same messages) and skips every
 * other section and key: tapird checks the whole file when it starts.
 * Links conf/ only (no stack, no backends).
 */
#ifndef TAPIR_CONF_PEEK_H
#define TAPIR_CONF_PEEK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct config_peek {
	char ifname[16];        /* [netif] name (or device): "tap0" */
	uint32_t mtu;           /* [netif] mtu: 1500 */
	uint32_t addr;          /* [ipv4] address, host order (valid if addr_set) */
	uint8_t prefix_len;
	bool addr_set;
	uint32_t gateway;       /* [ipv4] gateway, host order; 0: none (or address = dhcp) */
	bool gateway_enabled;   /* [gateway] enabled: tapird routes for the namespace */
	bool ipv6_enabled;      /* [ipv6] enabled */
	bool ipv6_addr_set;     /* [ipv6] has an address */
	uint8_t ipv6_addr[16];  /* the first one (if ipv6_addr_set) */
	bool ipv6_gateway_set;  /* [ipv6] gateway is set */
};

/**
 * config_peek_file() - Read [netif], [ipv4] and [ipv6] of a tapird configuration
 * @path:  The file, or NULL for the built-in configuration
 * @out:   Filled on success
 *
 * Return: 0, -EINVAL ("FILE:LINE: what is wrong" in @err), -ENOMEM, or
 *         -errno of the read
 */
int config_peek_file(const char *path, struct config_peek *out, char *err, size_t errlen);

#endif /* TAPIR_CONF_PEEK_H */
