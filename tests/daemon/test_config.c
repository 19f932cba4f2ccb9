/*
 * test_config.c - tapird's configuration: the default, valid files, every
 * validation error with its line, boot-argument overrides
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app_conf.h"
#include "config.h"

#ifndef SOURCE_ROOT
#error "SOURCE_ROOT must be defined"
#endif

#define MS 1000000ull
/* The built-in app types (apps/app_conf.h), as the runtime gives them */
#define BUILTINS app_builtin_confs, app_builtin_nconfs
#define SEC 1000000000ull

/* Parse + finish @text as "t.conf"; return the error code, message in @err. */
static int load(struct tapird_config *c, const char *text, char *err, size_t errlen)
{
	config_init(c);
	err[0] = '\0';
	int rc = config_parse_ini(c, "t.conf", text, strlen(text), err, errlen);
	if (!rc)
		rc = config_finish(c, BUILTINS, "t.conf", err, errlen);
	return rc;
}

static void load_ok(struct tapird_config *c, const char *text)
{
	char err[CONFIG_ERR_MAX];
	int rc = load(c, text, err, sizeof(err));
	if (rc)
		fail_msg("unexpected error %d: %s", rc, err);
}

static const struct app_config *app(const struct tapird_config *c, const char *name)
{
	for (size_t i = 0; i < c->napps; i++)
		if (!strcmp(c->apps[i].name, name))
			return &c->apps[i];
	fail_msg("no app %s", name);
	return NULL;
}

/* The params of a built-in app */
static uint16_t port_of(const struct app_config *a)
{
	return ((const struct app_port_config *)a->params)->port;
}

static const struct app_http_config *http_of(const struct app_config *a)
{
	return a->params;
}

static void test_default(void **state)
{
	struct tapird_config c;
	char err[CONFIG_ERR_MAX] = "";
	config_init(&c);
	assert_int_equal(config_parse_ini(&c, "(built-in)", config_default_ini,
					  strlen(config_default_ini), err, sizeof(err)), 0);
	assert_int_equal(config_finish(&c, BUILTINS, "(built-in)", err, sizeof(err)), 0);
	assert_string_equal(c.backend, "tap");
	assert_string_equal(c.ifname, "tap0");
	assert_int_equal(c.mtu, 1500);
	assert_true(c.offload);
	assert_false(c.mac_set);
	assert_true(c.addr_set);
	assert_int_equal(c.addr, 0xc0000202);
	assert_int_equal(c.prefix_len, 24);
	assert_int_equal(c.gateway, 0xc0000201);
	assert_int_equal(c.ttl, 64);
	assert_int_equal(c.reasm_max_bytes, 4194304);
	assert_true(c.reasm_timeout_ns == 30 * SEC);
	assert_int_equal(c.min_pmtu, 552);
	assert_int_equal(c.arp_cache_size, 1024);
	assert_true(c.arp_timeout_ns == 60 * SEC);
	assert_int_equal(c.icmp_error_rate, 100);
	assert_int_equal(c.icmp_error_burst, 50);
	assert_int_equal(c.log_level, TAPIR_LOG_LEVEL_INFO);
	assert_int_equal(c.log_format, CONFIG_LOG_TEXT);
	assert_false(impair_config_active(&c.impair));
	assert_int_equal(c.napps, 4);
	assert_string_equal(c.apps[0].name, "echo");
	assert_string_equal(c.apps[0].type, "echo");
	assert_int_equal(port_of(&c.apps[0]), 7);
	assert_string_equal(app(&c, "discard")->type, "discard");
	assert_int_equal(port_of(app(&c, "discard")), 9);
	assert_string_equal(app(&c, "source")->type, "source");
	assert_int_equal(port_of(app(&c, "source")), 19);
	/* the demo site: the embedded store on port 80 */
	assert_int_equal(c.nkvs, 1);
	assert_string_equal(c.kvs[0].name, "site");
	assert_string_equal(c.kvs[0].spec, "embedded:site");
	assert_false(c.kvs[0].writable);
	assert_string_equal(app(&c, "http")->type, "http");
	assert_int_equal(http_of(app(&c, "http"))->port, 80);
	assert_string_equal(http_of(app(&c, "http"))->kv, "site");
	/* [tcp] is all defaults: keepalive off, CUBIC, MSL 30 s */
	assert_false(c.tcp.keepalive);
	assert_int_equal(c.tcp.cc, TAPIR_TCP_CC_CUBIC);
	assert_true(c.tcp.msl_ns == 30 * SEC);
	config_free(&c);
}

/* The built-in default is the shipped example, byte for byte. */
static void test_default_is_example(void **state)
{
	const char *path = SOURCE_ROOT "/conf/tapird.conf";
	FILE *f = fopen(path, "rb");
	if (!f)
		fail_msg("%s: cannot open", path);
	static char buf[65536];
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	assert_string_equal(buf, config_default_ini);

	/* and config_load_file() gives the same result */
	struct tapird_config c;
	char err[CONFIG_ERR_MAX];
	config_init(&c);
	assert_int_equal(config_load_file(&c, path, err, sizeof(err)), 0);
	assert_int_equal(config_finish(&c, BUILTINS, path, err, sizeof(err)), 0);
	assert_int_equal(c.napps, 4);
	config_free(&c);
}

static void test_full(void **state)
{
	struct tapird_config c;
	load_ok(&c,
		"\xEF\xBB\xBF# every key\n"
		"[netif]\n"
		"backend = tap\n"
		"name = tapir-test0\n"
		"mac = 02:00:5E:00:53:AA\n"
		"mtu = 65521\n"
		"impair.loss = 1%\n"
		"impair.duplicate = 0.5%\n"
		"impair.reorder = 2500ppm\n"
		"impair.corrupt = 1ppm\n"
		"impair.delay = 10ms\n"
		"impair.jitter = 500us\n"
		"impair.seed = 0x2a\n"
		"impair.direction = rx\n"
		"\n"
		"[ipv4]\n"
		"address = 198.51.100.7/28 ; inline comment\n"
		"gateway = 198.51.100.1\n"
		"ttl = 255\n"
		"reassembly_max_bytes = 1MiB\n"
		"reassembly_timeout = 1.5s\n"
		"min_pmtu = 1280\n"
		"[arp]\n"
		"cache_size = 16\n"
		"timeout = 2min\n"
		"[icmp]\n"
		"error_rate = 0\n"
		"error_burst = 1000000\n"
		"[log]\n"
		"level = debug\n"
		"timestamps = yes\n"
		"format = json\n"
		"[app.echo]\n"
		"[app.e2]\n"
		"type = echo\n"
		"port = 7007\n"
		"[app.third_one-3]\n"
		"port = 9\n"
		"type = echo\n");
	assert_string_equal(c.ifname, "tapir-test0");
	assert_true(c.mac_set);
	static const uint8_t mac[6] = { 0x02, 0x00, 0x5e, 0x00, 0x53, 0xaa };
	assert_memory_equal(c.mac, mac, 6);
	assert_int_equal(c.mtu, 65521);
	assert_int_equal(c.impair.loss_ppm, 10000);
	assert_int_equal(c.impair.dup_ppm, 5000);
	assert_int_equal(c.impair.reorder_ppm, 2500);
	assert_int_equal(c.impair.corrupt_ppm, 1);
	assert_true(c.impair.delay_ns == 10 * MS);
	assert_true(c.impair.jitter_ns == 500000);
	assert_int_equal(c.impair.seed, 42);
	assert_true(c.impair_seed_set);
	assert_true(!c.impair.tx && c.impair.rx);
	assert_int_equal(c.addr, 0xc6336407);
	assert_int_equal(c.prefix_len, 28);
	assert_int_equal(c.gateway, 0xc6336401);
	assert_int_equal(c.ttl, 255);
	assert_int_equal(c.reasm_max_bytes, 1 << 20);
	assert_true(c.reasm_timeout_ns == 1500 * MS);
	assert_int_equal(c.min_pmtu, 1280);
	assert_int_equal(c.arp_cache_size, 16);
	assert_true(c.arp_timeout_ns == 120 * SEC);
	assert_int_equal(c.icmp_error_rate, 0);
	assert_int_equal(c.icmp_error_burst, 1000000);
	assert_int_equal(c.log_level, TAPIR_LOG_LEVEL_DEBUG);
	assert_true(c.log_timestamps);
	assert_int_equal(c.log_format, CONFIG_LOG_JSON);
	assert_int_equal(c.napps, 3);
	assert_int_equal(port_of(app(&c, "echo")), 7);
	assert_int_equal(port_of(app(&c, "e2")), 7007);
	assert_string_equal(app(&c, "e2")->type, "echo");
	assert_int_equal(port_of(app(&c, "third_one-3")), 9);
	config_free(&c);

	/* No gateway, prefix 32 and 0, a section given twice, "name: value" */
	load_ok(&c, "[ipv4]\naddress = 10.0.0.1/32\n[ipv4]\nttl: 3\n");
	assert_int_equal(c.gateway, 0);
	assert_int_equal(c.prefix_len, 32);
	assert_int_equal(c.ttl, 3);
	assert_int_equal(c.napps, 0);
	config_free(&c);
	load_ok(&c, "[ipv4]\naddress = 10.0.0.1/0\ngateway = 10.9.9.9\n");
	assert_int_equal(c.prefix_len, 0);
	config_free(&c);
	load_ok(&c, "[ipv4]\naddress=10.0.0.1/24\ngateway=\n");
	assert_int_equal(c.gateway, 0);
	config_free(&c);
	load_ok(&c, "[ipv4]\naddress=10.0.0.1/24\ngateway=10.0.0.2\ngateway=none\n");
	assert_int_equal(c.gateway, 0);
	config_free(&c);
	/* an indented "[x]" after a key continues its value: it is no section */
	load_ok(&c, "[ipv4]\naddress=10.0.0.1/24\n[app.x]\ntype=echo\nport=1\n  [app.web]\n"
		    "port=8\n");
	assert_int_equal(c.napps, 1);
	assert_int_equal(port_of(&c.apps[0]), 8);
	config_free(&c);
	/* /31: both addresses usable */
	load_ok(&c, "[ipv4]\naddress=10.0.0.0/31\ngateway=10.0.0.1\n");
	config_free(&c);
}

struct bad {
	const char *text;
	const char *msg;  /* expected message, from the start */
};

static void test_errors(void **state)
{
	static const struct bad bad[] = {
		/* sections and keys */
		{ "[ipv4]\naddress=10.0.0.1/24\n[nope]\n",
		  "t.conf:3: unknown section [nope]" },
		{ "[ipv4]\naddress=10.0.0.1/24\n[kv.data]\npath=/x\n",
		  "t.conf:4: unknown key 'path' in [kv.data] (expected store, writable)" },
		{ "[ipv4]\naddress=10.0.0.1/24\n[kv.data]\nstore=ftp://x\n",
		  "t.conf:4: [kv.data] store: 'ftp://x' is not a store" },
		{ "[ipv4]\naddress=10.0.0.1/24\n[kv.data]\nstore=mem:\nwritable=yes please\n",
		  "t.conf:5: [kv.data] writable: 'yes please' is not true or false" },
		{ "[ipv4]\naddress=10.0.0.1/24\n[kv.a b]\n", "t.conf:3: bad key-value store name 'a b'" },
		{ "[ipv4]\naddress=10.0.0.1/24\n[kv.data]\nwritable=true\n",
		  "t.conf:3: [kv.data]: store = SPEC is required" },
		{ "[ipv4]\naddress=10.0.0.1/24\n[app.web]\ntype=http\nport=8000\n",
		  "t.conf:3: [app.web]: kv = NAME (a [kv.NAME] section) is required" },
		{ "[ipv4]\naddress=10.0.0.1/24\n[app.web]\ntype=http\nkv=nope\n",
		  "t.conf:5: [app.web] kv: no section [kv.nope]" },
		{ "[ipv4]\naddress=10.0.0.1/24\n[kv.s]\nstore=dir:/x\n[app.k]\ntype=kvhttp\nkv=s\n",
		  "t.conf:7: [app.k] kv: [kv.s] is read-only (kvhttp needs writable = true)" },
		{ "[ipv4]\naddress=10.0.0.1/24\n[kv.s]\nstore=mem:\n[app.w]\ntype=http\nkv=s\n"
		  "index=a/b\n", "t.conf:8: [app.w] index: 'a/b' is not a file name" },
		{ "[ipv4]\naddress=10.0.0.1/24\n[kv.s]\nstore=mem:\n[app.w]\ntype=http\nkv=s\n"
		  "token=x\n", "t.conf:8: unknown key 'token' in [app.w] (type http)" },
		{ "[ipv4]\naddress=10.0.0.1/24\n[kv.s]\nstore=mem:\n[app.w]\ntype=http\nkv=s\n"
		  "idle_timeout=1ms\n", "t.conf:8: [app.w] idle_timeout: '1ms' is not a duration" },
		{ "[ipv4]\naddress=10.0.0.1/24\n[kv.s]\nstore=mem:\nwritable=true\n[app.w]\n"
		  "type=kvhttp\nkv=s\nmax_body=1GiB\n", "t.conf:9: [app.w] max_body: '1GiB'" },
		{ "[ipv4]\naddress=10.0.0.1/24\n[kv.s]\nstore=mem:\nwritable=true\n[app.w]\n"
		  "type=kvhttp\nkv=s\ntoken=a b\n", "t.conf:9: [app.w] token: must be printable" },
		/* TLS keys */
		{ "[ipv4]\naddress=10.0.0.1/24\n[kv.s]\nstore=mem:\n[app.w]\ntype=http\nkv=s\n"
		  "tls_store=nope\n", "t.conf:8: [app.w] tls_store: no section [kv.nope]" },
		{ "[ipv4]\naddress=10.0.0.1/24\n[kv.s]\nstore=mem:\n[app.w]\ntype=http\nkv=s\n"
		  "tls_store=s\nredirect_https=true\n",
		  "t.conf:9: [app.w] redirect_https: for a plain app (this one has tls_store)" },
		{ "[ipv4]\naddress=10.0.0.1/24\n[kv.s]\nstore=mem:\n[app.w]\ntype=http\nkv=s\n"
		  "hsts_max_age=1h\n", "t.conf:8: [app.w] hsts_max_age: needs tls_store" },
		{ "[ipv4]\naddress=10.0.0.1/24\n[kv.s]\nstore=mem:\n[app.w]\ntype=http\nkv=s\n"
		  "tls_min_version=1.1\n", "t.conf:8: [app.w] tls_min_version: '1.1'" },
		{ "[ipv4]\naddress=10.0.0.1/24\n[kv.s]\nstore=mem:\n[app.w]\ntype=http\nkv=s\n"
		  "tls_ciphers=AES128 SHA\n", "t.conf:8: [app.w] tls_ciphers: not a cipher list" },
		{ "[ipv4]\naddress=10.0.0.1/24\n[kv.s]\nstore=mem:\n[app.w]\ntype=http\nkv=s\n"
		  "tls_handshake_timeout=10min\n", "t.conf:8: [app.w] tls_handshake_timeout: '10min'" },
		{ "mtu = 1500\n", "t.conf:1: key 'mtu' outside of a [section]" },
		{ "[netif]\nmtu = 1500\nspeed = 10\n", "t.conf:3: unknown key 'speed' in [netif]" },
		{ "[ipv4]\n\n\nmask = 24\n", "t.conf:4: unknown key 'mask' in [ipv4]" },
		{ "[arp]\nsize=1\n", "t.conf:2: unknown key 'size' in [arp]" },
		{ "[icmp]\nrate=1\n", "t.conf:2: unknown key 'rate' in [icmp]" },
		{ "[log]\nfile=x\n", "t.conf:2: unknown key 'file' in [log]" },
		{ "[netif]\n= 3\n", "t.conf:2: empty key in [netif]" },
		{ "[netif]\nmtu 1500\n", "t.conf:2: syntax error" },
		{ "[netif\nmtu=1500\n", "t.conf:1: syntax error" },
		{ "[ipv4]\naddress=10.0.0.1/24\n[app.a b]\n", "t.conf:3: bad application name 'a b'" },
		{ "[app.]\n", "t.conf:1: bad application name ''" },
		{ "[app.abcdefghijabcdefghijabcdefghijabc]\n",
		  "t.conf:1: bad application name" },
		{ "[app.abcdefghijabcdefghijabcdefghijabcdefghijabcdefghij]\n",
		  "t.conf:1: section name too long" },
		{ "[netif]\nname=x\nname=x\0\n", "t.conf:3: NUL byte" },
		/* indented lines: a continuation after a key, a section after a section */
		{ "[ipv4]\naddress=10.0.0.1/24\n  [app.web]\n",
		  "t.conf:3: [ipv4] address: '[app.web]' is not ADDRESS/PREFIX" },
		{ "[ipv4]\naddress=10.0.0.1/24\n[log]\n  [app.web]\n",
		  "t.conf:4: [app.web]: unknown application type 'web'" },
		/* netif */
		{ "[netif]\nbackend = tun\n",
		  "t.conf:2: [netif] backend: 'tun' is not a backend (tap, pcap or vmnet)" },
		{ "[netif]\nbackend = VMNET\n", "t.conf:2: [netif] backend: 'VMNET' is not a backend" },
#ifndef __APPLE__
		{ "[netif]\nname = tap0\nbackend = vmnet\n",
		  "t.conf:3: [netif] backend: vmnet is macOS-only (vmnet.framework); use tap or pcap" },
#endif
		{ "[netif]\nname = \n", "t.conf:2: [netif] name: '' is not an interface name" },
		{ "[netif]\nname = abcdefghijklmnop\n", "t.conf:2: [netif] name: 'abcdefghijklmnop'" },
		{ "[netif]\nname = a/b\n", "t.conf:2: [netif] name: 'a/b'" },
		{ "[netif]\nname = ..\n", "t.conf:2: [netif] name: '..'" },
		{ "[netif]\nmac = 01:00:5e:00:00:01\n", "t.conf:2: [netif] mac: 01:00:5e:00:00:01 is a multicast" },
		{ "[netif]\nmac = 00:00:00:00:00:00\n", "t.conf:2: [netif] mac: 00:00:00:00:00:00 is all zeros" },
		{ "[netif]\nmac = 02:00:00:00:00\n", "t.conf:2: [netif] mac: '02:00:00:00:00' is not a MAC" },
		{ "[netif]\nmtu = 67\n", "t.conf:2: [netif] mtu: 67 is out of range (68 to 65521)" },
		{ "[netif]\nmtu = 65522\n", "t.conf:2: [netif] mtu: 65522 is out of range" },
		{ "[netif]\nmtu = 1500x\n", "t.conf:2: [netif] mtu: '1500x' is not a number" },
		{ "[netif]\nmtu = 99999999999999999999999\n", "t.conf:2: [netif] mtu: 99999999999999999999999 is out of range" },
		{ "[netif]\nimpair.loss = 101%\n", "t.conf:2: [netif] impair.loss: '101%' is out of range" },
		{ "[netif]\nimpair.delay = 10\n", "t.conf:2: [netif] impair.delay: '10' is not a duration" },
		{ "[netif]\nimpair.direction = up\n", "t.conf:2: [netif] impair.direction: 'up' is not a direction" },
		{ "[netif]\nimpair.seed = x\n", "t.conf:2: [netif] impair.seed: 'x' is not a seed" },
		{ "[netif]\nimpair.speed = 1\n", "t.conf:2: [netif] impair.speed: unknown impairment 'speed'" },
		/* ipv4 */
		{ "[ipv4]\naddress = 10.0.0.1\n", "t.conf:2: [ipv4] address: '10.0.0.1' is not ADDRESS/PREFIX" },
		{ "[ipv4]\naddress = DHCP\n", "t.conf:2: [ipv4] address: 'DHCP' is not ADDRESS/PREFIX (e.g. 192.0.2.2/24) or dhcp" },
		/* dhcp */
		{ "[dhcp]\nlease_file = tap0.lease\n",
		  "t.conf:2: [dhcp] lease_file: 'tap0.lease' is not an absolute path of at most 255 bytes" },
		{ "[dhcp]\nhostname = my_host\n", "t.conf:2: [dhcp] hostname: 'my_host' is not a host name" },
		{ "[dhcp]\nhostname = a..b\n", "t.conf:2: [dhcp] hostname: 'a..b' is not a host name" },
		{ "[dhcp]\nrelease_on_stop = sometimes\n",
		  "t.conf:2: [dhcp] release_on_stop: 'sometimes' is not true or false" },
		{ "[dhcp]\nclient_id = a\tb\n", "t.conf:2: [dhcp] client_id: 'a\tb' is not printable text" },
		{ "[dhcp]\nserver = 1\n", "t.conf:2: unknown key 'server' in [dhcp] (expected lease_file, hostname, client_id, release_on_stop, arp_probe)" },
		{ "[ipv4]\naddress = 10.0.0.1/33\n", "t.conf:2: [ipv4] address: prefix length '33' is not 0 to 32" },
		{ "[ipv4]\naddress = 10.0.0.1/\n", "t.conf:2: [ipv4] address: prefix length '' is not 0 to 32" },
		{ "[ipv4]\naddress = 10.0.0.256/24\n", "t.conf:2: [ipv4] address: '10.0.0.256' is not an IPv4" },
		{ "[ipv4]\naddress = 224.0.0.1/24\n", "t.conf:2: [ipv4] address: 224.0.0.1 is a multicast" },
		{ "[ipv4]\naddress = 127.0.0.1/8\n", "t.conf:2: [ipv4] address: 127.0.0.1 is a loopback" },
		{ "[ipv4]\naddress = 0.0.0.0/0\n", "t.conf:2: [ipv4] address: 0.0.0.0 is in 0.0.0.0/8" },
		{ "[ipv4]\naddress = 255.255.255.255/32\n", "t.conf:2: [ipv4] address: 255.255.255.255 is a reserved or broadcast" },
		{ "[ipv4]\naddress = 10.0.0.0/24\n", "t.conf:2: [ipv4] address: 10.0.0.0 is the network address of /24" },
		{ "[ipv4]\naddress = 10.0.0.255/24\n", "t.conf:2: [ipv4] address: 10.0.0.255 is the broadcast address of /24" },
		{ "[ipv4]\ngateway = 10.0.0.1\n\naddress = 10.1.0.2/24\n",
		  "t.conf:2: [ipv4] gateway: 10.0.0.1 is not on the subnet of 10.1.0.2/24" },
		{ "[ipv4]\naddress = 10.0.0.1/32\ngateway = 10.0.0.2\n",
		  "t.conf:3: [ipv4] gateway: 10.0.0.2 is not on the subnet of 10.0.0.1/32" },
		{ "[ipv4]\naddress = 10.0.0.1/24\ngateway = 10.0.0.1\n",
		  "t.conf:3: [ipv4] gateway: 10.0.0.1 is our own address" },
		{ "[ipv4]\naddress = 10.0.0.1/24\ngateway = 10.0.0.255\n",
		  "t.conf:3: [ipv4] gateway: 10.0.0.255 is the broadcast address" },
		{ "[ipv4]\naddress = 10.0.0.1/24\ngateway = 10.0.0.0\n",
		  "t.conf:3: [ipv4] gateway: 10.0.0.0 is the network address" },
		{ "[ipv4]\naddress = 10.0.0.1/24\ngateway = 224.1.1.1\n",
		  "t.conf:3: [ipv4] gateway: 224.1.1.1 is a multicast" },
		{ "[ipv4]\naddress = 10.0.0.1/24\ngateway = x\n",
		  "t.conf:3: [ipv4] gateway: 'x' is not an IPv4" },
		{ "[ipv4]\nttl = 0\n", "t.conf:2: [ipv4] ttl: 0 is out of range (1 to 255)" },
		{ "[ipv4]\nttl = 256\n", "t.conf:2: [ipv4] ttl: 256 is out of range" },
		{ "[ipv4]\nreassembly_max_bytes = 4MB\n", "t.conf:2: [ipv4] reassembly_max_bytes: '4MB' is not a size" },
		{ "[ipv4]\nreassembly_max_bytes = 2GiB\n", "t.conf:2: [ipv4] reassembly_max_bytes: 2GiB is out of range" },
		{ "[ipv4]\nreassembly_timeout = 30\n", "t.conf:2: [ipv4] reassembly_timeout: '30' is not a duration" },
		{ "[ipv4]\nreassembly_timeout = 0s\n", "t.conf:2: [ipv4] reassembly_timeout: 0s is out of range (1ms to 1h)" },
		{ "[ipv4]\nmin_pmtu = 67\n", "t.conf:2: [ipv4] min_pmtu: 67 is out of range (68 to 65535)" },
		{ "[netif]\n[ipv4]\n", "t.conf: [ipv4] address is required" },
		{ "", "t.conf: [ipv4] address is required" },
		/* arp, icmp, log */
		{ "[arp]\ncache_size = 0\n", "t.conf:2: [arp] cache_size: 0 is out of range" },
		{ "[arp]\ntimeout = 0.5s\n", "t.conf:2: [arp] timeout: 0.5s is out of range (1s to 24h)" },
		{ "[arp]\ntimeout = forever\n", "t.conf:2: [arp] timeout: 'forever' is not a duration" },
		{ "[icmp]\nerror_rate = -1\n", "t.conf:2: [icmp] error_rate: '-1' is not a number" },
		{ "[icmp]\nerror_burst = 1000001\n", "t.conf:2: [icmp] error_burst: 1000001 is out of range" },
		{ "[log]\nlevel = loud\n", "t.conf:2: [log] level: 'loud' is not a level" },
		{ "[log]\ntimestamps = sometimes\n", "t.conf:2: [log] timestamps: 'sometimes'" },
		{ "[log]\nformat = xml\n", "t.conf:2: [log] format: 'xml'" },
		/* apps */
		{ "[ipv4]\naddress=10.0.0.1/24\n[app.web]\nport=80\n",
		  "t.conf:3: [app.web]: unknown application type 'web'" },
		{ "[ipv4]\naddress=10.0.0.1/24\n[app.x]\nport=80\ntype=web\n",
		  "t.conf:5: [app.x] type: unknown application type 'web'" },
		{ "[ipv4]\naddress=10.0.0.1/24\n[app.echo]\nport=0\n",
		  "t.conf:4: [app.echo] port: '0' is not a port (1 to 65535)" },
		{ "[ipv4]\naddress=10.0.0.1/24\n[app.echo]\nport=65536\n",
		  "t.conf:4: [app.echo] port: '65536' is not a port" },
		{ "[ipv4]\naddress=10.0.0.1/24\n[app.echo]\nport=seven\n",
		  "t.conf:4: [app.echo] port: 'seven' is not a port" },
		{ "[ipv4]\naddress=10.0.0.1/24\n[app.echo]\nhost=x\n",
		  "t.conf:4: unknown key 'host' in [app.echo] (type echo)" },
		{ "[ipv4]\naddress=10.0.0.1/24\n[app.echo]\nport=7\n[app.e2]\ntype=echo\nport=7\n",
		  "t.conf:7: [app.e2]: UDP port 7 is already used by [app.echo]" },
		{ "[ipv4]\naddress=10.0.0.1/24\n[app.echo]\n[app.e2]\ntype=echo\n",
		  "t.conf:4: [app.e2]: UDP port 7 is already used by [app.echo]" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct tapird_config c;
		char err[CONFIG_ERR_MAX];
		/* texts may hold a NUL: use the size of the literal where given */
		size_t len = strlen(bad[i].text);
		if (strstr(bad[i].msg, "NUL"))
			len += 2;
		config_init(&c);
		err[0] = '\0';
		int rc = config_parse_ini(&c, "t.conf", bad[i].text, len, err, sizeof(err));
		if (!rc)
			rc = config_finish(&c, BUILTINS, "t.conf", err, sizeof(err));
		if (rc != -EINVAL)
			fail_msg("case %zu: rc %d, expected -EINVAL (%s)", i, rc, bad[i].msg);
		if (strncmp(err, bad[i].msg, strlen(bad[i].msg)))
			fail_msg("case %zu: message\n  '%s'\nexpected to start with\n  '%s'", i,
				 err, bad[i].msg);
		config_free(&c);
	}
}

/* [netif] backend: tap and pcap everywhere, vmnet only where it is built */
static void test_backend(void **state)
{
	struct tapird_config c;
	char err[CONFIG_ERR_MAX];
	load_ok(&c, "[netif]\nbackend = pcap\ndevice = veth0\n[ipv4]\naddress = 192.0.2.2/24\n");
	assert_string_equal(c.backend, "pcap");
	config_free(&c);
	load_ok(&c, "[netif]\nbackend = pcap\nbackend = tap\n[ipv4]\naddress = 192.0.2.2/24\n");
	assert_string_equal(c.backend, "tap");
	config_free(&c);
	int rc = load(&c, "[netif]\nbackend = vmnet\n[ipv4]\naddress = 192.0.2.2/24\n", err,
		      sizeof(err));
#ifdef __APPLE__
	assert_int_equal(rc, 0);
	assert_string_equal(c.backend, "vmnet");
#else
	assert_int_equal(rc, -EINVAL);
	assert_string_equal(err, "t.conf:2: [netif] backend: vmnet is macOS-only "
				 "(vmnet.framework); use tap or pcap");
	assert_string_equal(c.backend, "tap");  /* unchanged */
#endif
	config_free(&c);
}

/* [netif] busy_poll: a duration, 50us by default, 0 to 1ms, also as a boot
 * argument */
static void test_busy_poll(void **state)
{
	struct tapird_config c;
	char err[CONFIG_ERR_MAX];
	(void)state;
	load_ok(&c, "[ipv4]\naddress = 192.0.2.2/24\n");
	assert_int_equal(c.busy_poll_ns, 50000);
	config_free(&c);
	load_ok(&c, "[netif]\nbusy_poll = 0\n[ipv4]\naddress = 192.0.2.2/24\n");
	assert_int_equal(c.busy_poll_ns, 0);
	config_free(&c);
	load_ok(&c, "[netif]\nbusy_poll = 1ms\n[ipv4]\naddress = 192.0.2.2/24\n");
	assert_int_equal(c.busy_poll_ns, 1000000);
	config_free(&c);
	assert_int_equal(load(&c, "[netif]\nbusy_poll = 1001us\n", err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "t.conf:2: [netif] busy_poll: 1001us is out of range (0 to 1ms)");
	config_free(&c);
	assert_int_equal(load(&c, "[netif]\nbusy_poll = 50\n", err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "t.conf:2: [netif] busy_poll: '50' is not a duration"));
	config_free(&c);
	load_ok(&c, "[ipv4]\naddress = 192.0.2.2/24\n");
	const char *args[] = { "--netif.busy_poll=200us" };
	assert_int_equal(config_apply_args(&c, (char *const *)args, 1, err, sizeof(err)), 0);
	assert_int_equal(c.busy_poll_ns, 200000);
	config_free(&c);
}

/* [netif] offload: a boolean, true by default, also as a boot argument */
static void test_offload(void **state)
{
	struct tapird_config c;
	char err[CONFIG_ERR_MAX];
	load_ok(&c, "[ipv4]\naddress = 192.0.2.2/24\n");
	assert_true(c.offload);
	config_free(&c);
	load_ok(&c, "[netif]\noffload = false\n[ipv4]\naddress = 192.0.2.2/24\n");
	assert_false(c.offload);
	config_free(&c);
	load_ok(&c, "[netif]\noffload = false\noffload = true\n[ipv4]\naddress = 192.0.2.2/24\n");
	assert_true(c.offload);
	config_free(&c);
	assert_int_equal(load(&c, "[netif]\noffload = maybe\n", err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "t.conf:2: [netif] offload: 'maybe' is not true or false");
	config_free(&c);
	load_ok(&c, "[ipv4]\naddress = 192.0.2.2/24\n");
	const char *args[] = { "--netif.offload=false" };
	assert_int_equal(config_apply_args(&c, (char *const *)args, 1, err, sizeof(err)), 0);
	assert_false(c.offload);
	config_free(&c);
}

/* [ipv4] address = dhcp and the [dhcp] keys */
static void test_dhcp(void **state)
{
	struct tapird_config c;
	char err[CONFIG_ERR_MAX];
	load_ok(&c, "[ipv4]\naddress = 192.0.2.2/24\n");
	assert_false(c.dhcp);
	assert_true(c.dhcp_release);
	assert_true(c.dhcp_probe);
	assert_string_equal(c.dhcp_lease_file, "");
	config_free(&c);
	/* the gateway is the lease's: a configured one is ignored */
	load_ok(&c, "[ipv4]\naddress = dhcp\ngateway = 192.0.2.1\n[dhcp]\nlease_file = /x/l\n"
		    "hostname = host-1.example\nclient_id = id 1\nrelease_on_stop = false\n"
		    "arp_probe = no\n");
	assert_true(c.dhcp);
	assert_int_equal(c.addr, 0);
	assert_int_equal(c.gateway, 0);
	assert_string_equal(c.dhcp_lease_file, "/x/l");
	assert_string_equal(c.dhcp_hostname, "host-1.example");
	assert_string_equal(c.dhcp_client_id, "id 1");
	assert_false(c.dhcp_release);
	assert_false(c.dhcp_probe);
	config_free(&c);
	/* a boot argument turns DHCP on, and a static address off again */
	load_ok(&c, "[ipv4]\naddress = 192.0.2.2/24\ngateway = 192.0.2.1\n");
	const char *args[] = { "--ipv4.address=dhcp" };
	assert_int_equal(config_apply_args(&c, (char *const *)args, 1, err, sizeof(err)), 0);
	assert_true(c.dhcp);
	const char *args2[] = { "--ipv4.address=198.51.100.2/24" };
	assert_int_equal(config_apply_args(&c, (char *const *)args2, 1, err, sizeof(err)), 0);
	assert_false(c.dhcp);
	assert_int_equal(c.addr, 0xc6336402);
	config_free(&c);
}

static void test_first_error_wins(void **state)
{
	struct tapird_config c;
	char err[CONFIG_ERR_MAX];
	/* a syntax error before a bad value, and the other way round */
	assert_int_equal(load(&c, "[netif]\nbad line\nmtu=1\n", err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "t.conf:2: syntax error (expected [section], key = value or a comment)");
	config_free(&c);
	assert_int_equal(load(&c, "[netif]\nmtu=1\nbad line\n", err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "t.conf:2: [netif] mtu"));
	config_free(&c);
}

static void test_limits(void **state)
{
	struct tapird_config c;
	char err[CONFIG_ERR_MAX];
	/* a line of CONFIG_MAX_LINE characters is fine, one more is not */
	char line[512];
	int pre = snprintf(line, sizeof(line), "[ipv4]\naddress=10.0.0.1/24\n;");
	memset(line + pre, 'x', CONFIG_MAX_LINE - 1);
	strcpy(line + pre + CONFIG_MAX_LINE - 1, "\r\n");
	load_ok(&c, line);
	config_free(&c);
	memset(line + pre, 'x', CONFIG_MAX_LINE);
	strcpy(line + pre + CONFIG_MAX_LINE, "\n");
	assert_int_equal(load(&c, line, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "t.conf:3: line too long"));
	config_free(&c);

	/* too many apps */
	static char text[65536];
	size_t n = (size_t)snprintf(text, sizeof(text), "[ipv4]\naddress=10.0.0.1/24\n");
	for (int i = 0; i <= CONFIG_MAX_APPS; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, "[app.a%d]\ntype=echo\nport=%d\n",
				      i, 1000 + i);
	assert_int_equal(load(&c, text, err, sizeof(err)), -EINVAL);
	char want[64];
	snprintf(want, sizeof(want), "t.conf:%d: too many applications", 3 + 3 * CONFIG_MAX_APPS);
	if (strncmp(err, want, strlen(want)))
		fail_msg("'%s', expected '%s'", err, want);
	config_free(&c);

	/* too many keys in one app; a repeated key does not count twice */
	n = (size_t)snprintf(text, sizeof(text), "[ipv4]\naddress=10.0.0.1/24\n[app.x]\ntype=echo\n");
	for (int i = 0; i < 100; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, "port=%d\n", 1000 + i);
	load_ok(&c, text);
	assert_int_equal(port_of(app(&c, "x")), 1099);
	config_free(&c);
	n = (size_t)snprintf(text, sizeof(text), "[ipv4]\naddress=10.0.0.1/24\n[app.x]\n");
	for (int i = 0; i < CONFIG_MAX_APP_KEYS + 1; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, "k%d=1\n", i);
	assert_int_equal(load(&c, text, err, sizeof(err)), -EINVAL);
	snprintf(want, sizeof(want), "t.conf:%d: too many keys in [app.x]",
		 4 + CONFIG_MAX_APP_KEYS);
	if (strncmp(err, want, strlen(want)))
		fail_msg("'%s', expected '%s'", err, want);
	config_free(&c);
}

static int apply(struct tapird_config *c, const char *const *args, size_t n, char *err,
		 size_t errlen)
{
	config_init(c);
	err[0] = '\0';
	int rc = config_parse_ini(c, "(built-in)", config_default_ini, strlen(config_default_ini),
				  err, errlen);
	assert_int_equal(rc, 0);
	rc = config_apply_args(c, (char *const *)args, n, err, errlen);
	if (!rc)
		rc = config_finish(c, BUILTINS, "(built-in)", err, errlen);
	return rc;
}

static void test_bootargs(void **state)
{
	struct tapird_config c;
	char err[CONFIG_ERR_MAX];
	static const char *const args[] = {
		"--netif.mtu=9000",
		"--netif.impair.loss=1%",
		"--netif.name=tap7",
		"--ipv4.address=198.51.100.2/24",
		"--ipv4.gateway=",
		"--app.echo.port=7007",
		/* two tokens in one argv, and a quoted value */
		"--app.e2.type=echo --app.e2.port=\"7\"",
		"--log.level=debug",
		"--arp.timeout=5s",
	};
	int rc = apply(&c, args, sizeof(args) / sizeof(args[0]), err, sizeof(err));
	if (rc)
		fail_msg("%s", err);
	assert_int_equal(c.mtu, 9000);
	assert_int_equal(c.impair.loss_ppm, 10000);
	assert_string_equal(c.ifname, "tap7");
	assert_int_equal(c.addr, 0xc6336402);
	assert_int_equal(c.gateway, 0);
	assert_int_equal(c.napps, 5);  /* the default's four and e2 */
	assert_int_equal(port_of(app(&c, "echo")), 7007);
	assert_int_equal(port_of(app(&c, "e2")), 7);
	assert_int_equal(c.log_level, TAPIR_LOG_LEVEL_DEBUG);
	assert_true(c.arp_timeout_ns == 5 * SEC);
	config_free(&c);

	/* no arguments at all */
	assert_int_equal(apply(&c, NULL, 0, err, sizeof(err)), 0);
	config_free(&c);

	static const struct {
		const char *arg, *msg;
	} bad[] = {
		{ "--netif.mtu=1", "argument '--netif.mtu=1': [netif] mtu: 1 is out of range" },
		{ "--netif.impair.loss=2", "argument '--netif.impair.loss=2': [netif] impair.loss: '2' is not a rate" },
		{ "--ipv4.gateway=10.0.0.1", "argument '--ipv4.gateway=10.0.0.1': [ipv4] gateway: 10.0.0.1 is not on the subnet of 192.0.2.2/24" },
		{ "--app.echo.colour=red", "argument '--app.echo.colour=red': unknown key 'colour' in [app.echo]" },
		{ "--app.web.port=80", "argument '--app.web.port=80': [app.web]: unknown application type 'web'" },
		{ "--app.e2.type=echo", "argument '--app.e2.type=echo': [app.e2]: UDP port 7 is already used by [app.echo]" },
		{ "--app.echo=1", "argument '--app.echo=1': expected --app.NAME.key=value" },
		{ "--nope.x=1", "argument '--nope.x=1': unknown section [nope]" },
		{ "--netif.speed=1", "argument '--netif.speed=1': unknown key 'speed' in [netif]" },
		{ "netif.mtu=1500", "argument 'netif.mtu=1500': expected --section.key=value" },
		{ "--netif.mtu", "argument '--netif.mtu': expected --section.key=value (no '=')" },
		{ "--log.level=\"debug", "arguments '--log.level=\"debug': unterminated quote" },
		{ "--log.level=debug\\", "arguments '--log.level=debug\\': trailing backslash" },
		{ "--app.x.type=echo --app.x.port=7", "argument '--app.x.port=7': [app.x]: UDP port 7 is already used" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *a[1] = { bad[i].arg };
		rc = apply(&c, a, 1, err, sizeof(err));
		if (rc != -EINVAL)
			fail_msg("'%s': rc %d", bad[i].arg, rc);
		if (strncmp(err, bad[i].msg, strlen(bad[i].msg)))
			fail_msg("'%s': message\n  '%s'\nexpected to start with\n  '%s'",
				 bad[i].arg, err, bad[i].msg);
		config_free(&c);
	}

	/* arguments override the file, whatever the order in the file */
	config_init(&c);
	const char *text = "[netif]\nmtu=9000\n[ipv4]\naddress=10.0.0.1/24\n";
	assert_int_equal(config_parse_ini(&c, "t.conf", text, strlen(text), err, sizeof(err)), 0);
	const char *a1[] = { "--netif.mtu=1280" };
	assert_int_equal(config_apply_args(&c, (char *const *)a1, 1, err, sizeof(err)), 0);
	assert_int_equal(config_finish(&c, BUILTINS, "t.conf", err, sizeof(err)), 0);
	assert_int_equal(c.mtu, 1280);
	config_free(&c);
}

static void test_load_file(void **state)
{
	struct tapird_config c;
	char err[CONFIG_ERR_MAX];
	config_init(&c);
	assert_int_equal(config_load_file(&c, "/nonexistent/tapird.conf", err, sizeof(err)),
			 -ENOENT);
	assert_string_equal(err, "/nonexistent/tapird.conf: No such file or directory");
	config_free(&c);

	char path[] = "/tmp/tapird-test-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	const char *text = "[ipv4]\naddress = 10.0.0.1/24\n\n[netif]\nmtu = 0\n";
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	config_init(&c);
	assert_int_equal(config_load_file(&c, path, err, sizeof(err)), -EINVAL);
	char want[128];
	snprintf(want, sizeof(want), "%s:5: [netif] mtu: 0 is out of range", path);
	if (strncmp(err, want, strlen(want)))
		fail_msg("'%s', expected '%s'", err, want);
	config_free(&c);
	unlink(path);
}

/* [tcp] keys, their errors, and TCP port conflicts between apps. */
static void test_tcp_section(void **state)
{
	struct tapird_config c;
	char err[CONFIG_ERR_MAX];

	load_ok(&c, "[ipv4]\naddress = 192.0.2.2/24\n[tcp]\nkeepalive = true\n"
		    "keepalive_idle = 10s\nkeepalive_interval = 2s\nkeepalive_count = 3\n"
		    "congestion_control = newreno\nsndbuf = 1MiB\nrcvbuf = 512KiB\nmsl = 1s\n"
		    "backlog = 1000\nmax_connections = 20000\nmax_retries = 8\n"
		    "syn_retries = 2\nnodelay = true\nsyn_cookies = false\n"
		    "fin_wait2_timeout = 5s\nautotune = false\nsndbuf_max = 2MiB\n"
		    "rcvbuf_max = 16MiB\n");
	assert_true(c.tcp.keepalive);
	assert_true(c.tcp.keepalive_idle_ns == 10 * SEC);
	assert_true(c.tcp.keepalive_intvl_ns == 2 * SEC);
	assert_int_equal(c.tcp.keepalive_count, 3);
	assert_int_equal(c.tcp.cc, TAPIR_TCP_CC_NEWRENO);
	assert_int_equal(c.tcp.sndbuf, 1 << 20);
	assert_int_equal(c.tcp.rcvbuf, 512 << 10);
	assert_true(c.tcp.msl_ns == SEC);
	assert_int_equal(c.tcp.backlog, 1000);
	assert_int_equal(c.tcp.max_connections, 20000);
	assert_int_equal(c.tcp.max_retries, 8);
	assert_int_equal(c.tcp.syn_retries, 2);
	assert_true(c.tcp.nodelay);
	assert_false(c.tcp.syn_cookies);
	assert_true(c.tcp.fin_wait2_ns == 5 * SEC);
	assert_false(c.tcp.autotune);
	assert_int_equal(c.tcp.sndbuf_max, 2 << 20);
	assert_int_equal(c.tcp.rcvbuf_max, 16 << 20);
	config_free(&c);
	/* the defaults: autotuning on, up to Linux's tcp_wmem[2] and tcp_rmem[2] */
	load_ok(&c, "[ipv4]\naddress = 192.0.2.2/24\n");
	assert_true(c.tcp.autotune);
	assert_int_equal(c.tcp.sndbuf_max, 1 << 20);
	assert_int_equal(c.tcp.rcvbuf_max, 6 << 20);
	config_free(&c);

	static const struct { const char *text, *want; } bad[] = {
		{ "[tcp]\ncongestion_control = bbr\n", "t.conf:2: [tcp] congestion_control" },
		{ "[tcp]\n\nmax_retries = 3\n", "t.conf:3: [tcp] max_retries: 3 is out of range" },
		{ "[tcp]\nsndbuf = 12\n", "t.conf:2: [tcp] sndbuf: 12 is out of range" },
		{ "[tcp]\n\nrcvbuf_max = 2GiB\n", "t.conf:3: [tcp] rcvbuf_max: 2GiB is out of range" },
		{ "[tcp]\nsndbuf_max = 1\n", "t.conf:2: [tcp] sndbuf_max: 1 is out of range" },
		{ "[tcp]\nautotune = sometimes\n", "t.conf:2: [tcp] autotune" },
		{ "[tcp]\nkeepalive = maybe\n", "t.conf:2: [tcp] keepalive" },
		{ "[tcp]\nmsl = fast\n", "t.conf:2: [tcp] msl: 'fast' is not a duration" },
		{ "[tcp]\nwindow = 3\n", "t.conf:2: unknown key 'window' in [tcp]" },
		{ "[app.a]\ntype = source\nport = 7\n", "t.conf:3: [app.a]: TCP port 7 is already used" },
		{ "[app.d2]\ntype = discard\n", "t.conf:1: [app.d2]: UDP port 9 is already used" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char text[512];

		/* the default apps come first: echo 7, discard 9, source 19 */
		snprintf(text, sizeof(text), "%s", bad[i].text);
		config_init(&c);
		int rc = config_parse_ini(&c, "(built-in)", config_default_ini,
					  strlen(config_default_ini), err, sizeof(err));
		assert_int_equal(rc, 0);
		rc = config_parse_ini(&c, "t.conf", text, strlen(text), err, sizeof(err));
		if (!rc)
			rc = config_finish(&c, BUILTINS, "t.conf", err, sizeof(err));
		if (!rc || !strstr(err, bad[i].want))
			fail_msg("case %zu: got %d '%s', want '%s'", i, rc, err, bad[i].want);
		config_free(&c);
	}
}

/* [ipv6]: defaults, repeated and comma-separated addresses, errors with FILE:LINE */
static void test_ipv6_section(void **state)
{
	struct tapird_config c;
	char err[CONFIG_ERR_MAX];
	static const uint8_t a2[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 2 };
	static const uint8_t a3[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 1, [15] = 3 };
	static const uint8_t gw[16] = { 0xfe, 0x80, [15] = 1 };

	load_ok(&c, "[ipv4]\naddress = 192.0.2.2/24\n");
	assert_true(c.ipv6.enabled && c.ipv6.slaac && c.ipv6.dad);
	assert_int_equal(c.ipv6.naddrs, 0);
	assert_int_equal(c.ipv6.addr_gen, TAPIR_IPV6_ADDR_GEN_STABLE_PRIVACY);
	assert_int_equal(c.ipv6.hop_limit, 64);
	assert_true(c.ipv6.reasm_timeout_ns == 60 * SEC);
	assert_int_equal(c.ipv6.reasm_max_bytes, 4 << 20);
	static const uint8_t no_secret[16];
	assert_memory_equal(c.ipv6.stable_secret, no_secret, 16);  /* the daemon's kept one */
	config_free(&c);

	static const uint8_t secret[16] = { 0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77,
					    0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff };
	load_ok(&c, "[ipv4]\naddress = 192.0.2.2/24\n[ipv6]\nstable_secret = 00112233445566778899AAbbCCddEEFF\n");
	assert_memory_equal(c.ipv6.stable_secret, secret, 16);
	config_free(&c);

	load_ok(&c, "[ipv4]\naddress = 192.0.2.2/24\n[ipv6]\naddress = 2001:db8::2/64\n"
		    "address = 2001:db8:1::3/48, 2001:db8::2/64\ngateway = fe80::1\nslaac = false\n"
		    "addr_gen_mode = eui64\ndad = false\nhop_limit = 255\n"
		    "reassembly_max_bytes = 1MiB\nreassembly_timeout = 5s\n");
	assert_int_equal(c.ipv6.naddrs, 2);  /* the repeated one once */
	assert_memory_equal(c.ipv6.addrs[0].addr, a2, 16);
	assert_int_equal(c.ipv6.addrs[0].prefix_len, 64);
	assert_memory_equal(c.ipv6.addrs[1].addr, a3, 16);
	assert_int_equal(c.ipv6.addrs[1].prefix_len, 48);
	assert_true(c.ipv6.gateway_set);
	assert_memory_equal(c.ipv6.gateway, gw, 16);
	assert_false(c.ipv6.slaac || c.ipv6.dad);
	assert_int_equal(c.ipv6.addr_gen, TAPIR_IPV6_ADDR_GEN_EUI64);
	assert_int_equal(c.ipv6.hop_limit, 255);
	assert_int_equal(c.ipv6.reasm_max_bytes, 1 << 20);
	assert_true(c.ipv6.reasm_timeout_ns == 5 * SEC);
	config_free(&c);

	static const struct { const char *text, *want; } bad[] = {
		{ "[ipv6]\naddress = 2001:db8::2\n", "t.conf:2: [ipv6] address: '2001:db8::2' is not" },
		{ "[ipv6]\n\naddress = 192.0.2.9/24\n", "t.conf:3: [ipv6] address: '192.0.2.9' is not an"
		  " IPv6 address" },
		{ "[ipv6]\naddress = 2001:db8::2/129\n", "t.conf:2: [ipv6] address: prefix length" },
		{ "[ipv6]\naddress = ff02::1/64\n", "t.conf:2: [ipv6] address: ff02::1 is a multicast" },
		{ "[ipv6]\naddress = fe80::5/64\n", "t.conf:2: [ipv6] address: fe80::5 is link-local" },
		{ "[ipv6]\naddress = ::/64\n", "t.conf:2: [ipv6] address: :: is the unspecified" },
		{ "[ipv6]\ngateway = 2001:db8::zz\n", "t.conf:2: [ipv6] gateway: '2001:db8::zz' is not" },
		{ "[ipv6]\naddr_gen_mode = random\n", "t.conf:2: [ipv6] addr_gen_mode" },
		{ "[ipv6]\nhop_limit = 0\n", "t.conf:2: [ipv6] hop_limit: 0 is out of range" },
		{ "[ipv6]\nreassembly_timeout = soon\n", "t.conf:2: [ipv6] reassembly_timeout" },
		{ "[ipv6]\nmtu = 1280\n", "t.conf:2: unknown key 'mtu' in [ipv6]" },
		{ "[ipv6]\nstable_secret = 0011223344556677\n", "t.conf:2: [ipv6] stable_secret: "
		  "'0011223344556677' is not 32 hex digits" },
		{ "[ipv6]\nstable_secret = 00112233445566778899aabbccddeefg\n",
		  "t.conf:2: [ipv6] stable_secret: '00112233445566778899aabbccddeefg' is not 32 hex" },
		{ "[ipv6]\nstable_secret = 00000000000000000000000000000000\n",
		  "t.conf:2: [ipv6] stable_secret: all zero is not a secret" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		config_init(&c);
		int rc = config_parse_ini(&c, "t.conf", bad[i].text, strlen(bad[i].text), err,
					  sizeof(err));
		if (!rc || !strstr(err, bad[i].want))
			fail_msg("case %zu: got %d '%s', want '%s'", i, rc, err, bad[i].want);
		config_free(&c);
	}
}

/* An out-of-tree type, as examples/hello declares one */
struct hello_params {
	uint16_t port;
	char greeting[64];
};

static const struct tapir_conf_key hello_keys[] = {
	{ "greeting", TAPIR_CONF_STRING, TAPIR_CONF_AT(struct hello_params, greeting), .max = 63,
	  .def = "hello", .help = "the first line" },
	{ "port", TAPIR_CONF_UINT, TAPIR_CONF_AT(struct hello_params, port), .min = 1, .max = 65535,
	  .def = "7777", .help = "TCP port" },
};

static int hello_check(const struct tapir_app_check *k, char *err, size_t errlen)
{
	const struct hello_params *p = k->params;
	if (strcmp(p->greeting, "hello") || !strcmp(k->key_where(k, "greeting"), k->where))
		return 0;
	snprintf(err, errlen, "%s: [app.%s]: a greeting must not be 'hello'", k->where, k->name);
	return -EINVAL;
}

static const struct tapir_app_conf_type hello_conf = {
	.name = "hello",
	.keys = hello_keys,
	.nkeys = sizeof(hello_keys) / sizeof(hello_keys[0]),
	.params_size = sizeof(struct hello_params),
	.tcp_port = TAPIR_APP_CONF_PORT(struct hello_params, port),
	.check = hello_check,
};

static const struct tapir_app_conf_type bare_conf = { .name = "bare" };

/* The built-in types, then hello and bare (as tapir_run() joins them) */
static const struct tapir_app_conf_type *const all_types[] = {
	&app_echo_conf, &app_discard_conf, &app_source_conf, &app_http_conf, &app_kvhttp_conf,
	&app_metrics_conf, &hello_conf, &bare_conf,
};
#define TYPES all_types, sizeof(all_types) / sizeof(all_types[0])

/* [kv.NAME], http and kvhttp, and app types from outside (tapir_run()'s) */
static void test_kv_http(void **state)
{
	struct tapird_config c;
	char err[CONFIG_ERR_MAX];

	load_ok(&c, "[ipv4]\naddress = 192.0.2.2/24\n"
		    "[kv.site]\nstore = tar:/srv/site.tar\n"
		    "[kv.data]\nstore = dir:/var/lib/x\nwritable = true\n"
		    "[app.www]\ntype = http\nkv = site\n"
		    "[app.www2]\ntype = http\nkv = site\nport = 8081\nindex = home.htm\n"
		    "idle_timeout = 2s\nmax_header_bytes = 1KiB\nmax_headers = 10\n"
		    "access_log = false\nmax_connections = 5\n"
		    "[app.api]\ntype = kvhttp\nkv = data\ntoken = s3cret\nmax_body = 64KiB\n"
		    "[app.tls]\ntype = http\nkv = site\nport = 443\ntls_store = data\n"
		    "tls_min_version = 1.3\nhsts_max_age = 24h\nhsts_subdomains = yes\n"
		    "tls_max_handshakes = 9\ntls_session_cache = 0\n"
		    "[app.redir]\ntype = http\nkv = site\nport = 8000\nredirect_https = true\n"
		    "redirect_port = 8443\n");
	assert_int_equal(c.nkvs, 2);
	assert_string_equal(config_kv_find(&c, "site")->spec, "tar:/srv/site.tar");
	assert_false(config_kv_find(&c, "site")->writable);
	assert_true(config_kv_find(&c, "data")->writable);
	assert_null(config_kv_find(&c, "nope"));
	const struct app_http_config *h = http_of(app(&c, "www"));
	assert_string_equal(app(&c, "www")->type, "http");
	assert_int_equal(h->port, 80);
	assert_string_equal(h->kv, "site");
	assert_string_equal(h->index, "index.html");
	assert_true(h->idle_timeout_ns == 30 * SEC);
	assert_int_equal(h->max_header_bytes, 8192);
	assert_true(h->access_log);
	assert_string_equal(h->tls_store, "");  /* TLS defaults */
	assert_int_equal(h->tls_min_version, 12);
	assert_non_null(strstr(h->tls_ciphers, "ECDHE-ECDSA-AES128-GCM-SHA256"));
	assert_non_null(strstr(h->tls_ciphersuites, "TLS_AES_128_GCM_SHA256"));
	assert_int_equal(h->tls_session_cache, 1024);
	assert_true(h->tls_ticket_rotation_ns == 3600 * SEC);
	assert_true(h->tls_handshake_timeout_ns == 10 * SEC);
	assert_int_equal(h->tls_max_handshakes, 256);
	assert_true(h->hsts_max_age_ns == 0);
	assert_false(h->redirect_https);
	assert_int_equal(h->redirect_port, 443);
	h = http_of(app(&c, "www2"));
	assert_int_equal(h->port, 8081);
	assert_string_equal(h->index, "home.htm");
	assert_true(h->idle_timeout_ns == 2 * SEC);
	assert_int_equal(h->max_header_bytes, 1024);
	assert_int_equal(h->max_headers, 10);
	assert_int_equal(h->max_connections, 5);
	assert_false(h->access_log);
	h = http_of(app(&c, "api"));
	assert_string_equal(app(&c, "api")->type, "kvhttp");
	assert_int_equal(h->port, 8080);
	assert_string_equal(h->token, "s3cret");
	assert_int_equal(h->max_body, 65536);
	h = http_of(app(&c, "tls"));
	assert_string_equal(h->tls_store, "data");
	assert_int_equal(h->tls_min_version, 13);
	assert_true(h->hsts_max_age_ns == 24 * 3600 * SEC);
	assert_true(h->hsts_subdomains);
	assert_int_equal(h->tls_max_handshakes, 9);
	assert_int_equal(h->tls_session_cache, 0);
	h = http_of(app(&c, "redir"));
	assert_true(h->redirect_https);
	assert_int_equal(h->redirect_port, 8443);
	config_free(&c);

	/* metrics: port 9100, no access log, no store; kv is not one of its keys */
	load_ok(&c, "[ipv4]\naddress = 192.0.2.2/24\n[app.m]\ntype = metrics\n"
		    "[app.m2]\ntype = metrics\nport = 9200\naccess_log = true\n");
	h = http_of(app(&c, "m"));
	assert_string_equal(app(&c, "m")->type, "metrics");
	assert_int_equal(h->port, 9100);
	assert_false(h->access_log);
	assert_int_equal(h->max_header_bytes, 8192);
	assert_int_equal(http_of(app(&c, "m2"))->port, 9200);
	assert_true(http_of(app(&c, "m2"))->access_log);
	config_free(&c);
	config_init(&c);
	const char *mkv = "[ipv4]\naddress = 192.0.2.2/24\n[app.m]\ntype = metrics\nkv = x\n";
	assert_int_equal(config_parse_ini(&c, "t.conf", mkv, strlen(mkv), err, sizeof(err)), 0);
	assert_int_equal(config_finish(&c, BUILTINS, "t.conf", err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "t.conf:5: unknown key 'kv' in [app.m] (type metrics)"));
	config_free(&c);

	/* two http apps on one port */
	config_init(&c);
	const char *dup = "[ipv4]\naddress = 192.0.2.2/24\n[kv.s]\nstore = mem:\n"
			  "[app.a]\ntype = http\nkv = s\n[app.b]\ntype = http\nkv = s\n";
	assert_int_equal(config_parse_ini(&c, "t.conf", dup, strlen(dup), err, sizeof(err)), 0);
	assert_int_equal(config_finish(&c, BUILTINS, "t.conf", err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "t.conf:8: [app.b]: TCP port 80 is already used by [app.a]");
	config_free(&c);

	/* a type from outside: the same record as the built-in ones */
	config_init(&c);
	const char *text = "[ipv4]\naddress = 192.0.2.2/24\n[app.hi]\ntype = hello\n"
			   "greeting = hi there\nport = 7000\n[app.hello]\n[app.echo]\nport=7001\n";
	assert_int_equal(config_parse_ini(&c, "t.conf", text, strlen(text), err, sizeof(err)), 0);
	assert_int_equal(config_finish(&c, TYPES, "t.conf", err, sizeof(err)), 0);
	assert_string_equal(app(&c, "hi")->type, "hello");
	assert_true(app(&c, "hi")->ctype == &hello_conf);
	assert_int_equal(app(&c, "hi")->type_index, app_builtin_nconfs);
	assert_int_equal(app(&c, "echo")->type_index, 0);
	const struct hello_params *hp = app(&c, "hi")->params;
	assert_string_equal(hp->greeting, "hi there");
	assert_int_equal(hp->port, 7000);
	hp = app(&c, "hello")->params;
	assert_string_equal(hp->greeting, "hello");  /* the default */
	assert_int_equal(hp->port, 7777);
	assert_int_equal(config_app_port(app(&c, "hi"), true), 7000);
	assert_int_equal(config_app_port(app(&c, "hi"), false), 0);
	assert_int_equal(config_app_port(app(&c, "echo"), false), 7001);
	config_free(&c);
	static const struct bad ext_bad[] = {
		{ "[app.hi]\ntype = hello\ncolour = red\n",
		  "t.conf:7: unknown key 'colour' in [app.hi] (type hello), expected greeting, port" },
		{ "[app.hi]\ntype = hello\nport = 0\n",
		  "t.conf:7: [app.hi] port: 0 is out of range (1 to 65535)" },
		{ "[app.hi]\ntype = hello\ngreeting = hello\n",
		  "t.conf:5: [app.hi]: a greeting must not be 'hello'" },
		{ "[app.hi]\ntype = hello\nport = 80\n[app.w]\ntype = http\nkv = s\n",
		  "t.conf:8: [app.w]: TCP port 80 is already used by [app.hi]" },
		{ "[app.x]\ntype = hello2\n",
		  "t.conf:6: [app.x] type: unknown application type 'hello2' (known: echo, "
		  "discard, source, http, kvhttp, metrics, hello, bare)" },
		{ "[app.bare]\nport = 1\n",
		  "t.conf:6: unknown key 'port' in [app.bare] (type bare), which takes none" },
	};
	for (size_t i = 0; i < sizeof(ext_bad) / sizeof(ext_bad[0]); i++) {
		char t[512];
		snprintf(t, sizeof(t), "[ipv4]\naddress = 192.0.2.2/24\n[kv.s]\nstore = mem:\n%s",
			 ext_bad[i].text);
		config_init(&c);
		assert_int_equal(config_parse_ini(&c, "t.conf", t, strlen(t), err, sizeof(err)), 0);
		assert_int_equal(config_finish(&c, TYPES, "t.conf", err, sizeof(err)), -EINVAL);
		assert_string_equal(err, ext_bad[i].msg);
		config_free(&c);
	}
	/* a key-less type: no params but the byte every app gets */
	text = "[ipv4]\naddress = 192.0.2.2/24\n[app.bare]\n";
	config_init(&c);
	assert_int_equal(config_parse_ini(&c, "t.conf", text, strlen(text), err, sizeof(err)), 0);
	assert_int_equal(config_finish(&c, TYPES, "t.conf", err, sizeof(err)), 0);
	assert_non_null(app(&c, "bare")->params);
	config_free(&c);
	/* without the type known, the same file is refused */
	text = "[ipv4]\naddress = 192.0.2.2/24\n[app.hi]\ntype = hello\n";
	config_init(&c);
	assert_int_equal(config_parse_ini(&c, "t.conf", text, strlen(text), err, sizeof(err)), 0);
	assert_int_equal(config_finish(&c, BUILTINS, "t.conf", err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "t.conf:4: [app.hi] type: unknown application type 'hello' "
			    "(known: echo, discard, source, http, kvhttp, metrics)");
	config_free(&c);
}

/* Every key table: help on each key, defaults that its own setter accepts */
static void check_table(const struct tapir_conf_key *keys, size_t n, size_t size)
{
	char msg[CONFIG_ERR_MAX] = "";
	void *base = calloc(1, size);
	assert_non_null(base);
	for (size_t i = 0; i < n; i++) {
		assert_non_null(keys[i].help);
		assert_true(keys[i].kind == TAPIR_CONF_CUSTOM || keys[i].offset < size);
		assert_true(keys[i].kind == TAPIR_CONF_CUSTOM || keys[i].kind == TAPIR_CONF_DURATION ||
			    keys[i].kind == TAPIR_CONF_BOOL || keys[i].kind == TAPIR_CONF_ENUM ||
			    keys[i].offset + keys[i].size <= size);
	}
	if (tapir_conf_keys_defaults(keys, n, base, msg, sizeof(msg)))
		fail_msg("default refused: %s", msg);
	free(base);
}

/* [gateway]: defaults, values, and file:line errors */
static void test_gateway_section(void **state)
{
	(void)state;
	struct tapird_config c;
	char err[CONFIG_ERR_MAX];

	load_ok(&c, "[ipv4]\naddress = 192.0.2.2/24\n");
	assert_false(c.gw.enabled);
	assert_int_equal(c.gw.host_loopback, 0);
	assert_int_equal(c.gw.max_flows, 4096);
	assert_int_equal(c.gw.flow_buffer, 256 << 10);
	assert_int_equal(c.gw.total_buffer, 64 << 20);
	assert_int_equal(c.gw.udp_idle_ns, 60 * SEC);
	assert_int_equal(c.gw.connect_timeout_ns, 20 * SEC);
	assert_true(c.gw.icmp_echo);
	config_free(&c);

	load_ok(&c, "[ipv4]\naddress = 192.0.2.2/24\n[gateway]\nenabled = true\n"
		    "host_loopback = 192.0.2.3\nmax_flows = 10\nflow_buffer = 8KiB\n"
		    "total_buffer = 1MiB\nudp_idle_timeout = 5s\nicmp_echo = false\n");
	assert_true(c.gw.enabled);
	assert_int_equal(c.gw.host_loopback, 0xc0000203);
	assert_false(c.gw.host_loopback6_set);
	assert_int_equal(c.gw.max_flows, 10);
	assert_int_equal(c.gw.flow_buffer, 8192);
	assert_int_equal(c.gw.total_buffer, 1 << 20);
	assert_int_equal(c.gw.udp_idle_ns, 5 * SEC);
	assert_false(c.gw.icmp_echo);
	config_free(&c);

	load_ok(&c, "[ipv4]\naddress = 192.0.2.2/24\n[gateway]\nhost_loopback6 = 2001:db8:ff::1\n");
	assert_true(c.gw.host_loopback6_set);
	assert_int_equal(c.gw.host_loopback6[0], 0x20);
	assert_int_equal(c.gw.host_loopback6[5], 0xff);
	assert_int_equal(c.gw.host_loopback6[15], 1);
	config_free(&c);

	/* the relay's resolvers, either family */
	load_ok(&c, "[ipv4]\naddress = 192.0.2.2/24\n[gateway]\ndns = 2001:db8::53, 198.51.100.53\n");
	assert_int_equal(c.gw.ndns, 2);
	assert_int_equal(c.gw.dns[0].family, TAPIR_AF_INET6);
	assert_int_equal(c.gw.dns[0].v6[15], 0x53);
	assert_int_equal(c.gw.dns[1].family, TAPIR_AF_INET);
	assert_int_equal(c.gw.dns[1].v4, 0xc6336435);
	config_free(&c);
	/* the host's resolvers may be its loopback (dnsmasq, systemd-resolved) */
	load_ok(&c, "[ipv4]\naddress = 192.0.2.2/24\n[gateway]\ndns = 127.0.0.53, ::1\n");
	assert_int_equal(c.gw.ndns, 2);
	assert_int_equal(c.gw.dns[0].v4, 0x7f000035);
	assert_int_equal(c.gw.dns[1].v6[15], 1);
	config_free(&c);

	/* each text starts "[ipv4]\naddress = ...\n": the [gateway] lines are 3 and 4 */
	static const struct {
		const char *text, *msg;
	} bad[] = {
		{ "[gateway]\nhost_loopback = 127.0.0.1\n",
		  "t.conf:4: [gateway] host_loopback: 127.0.0.1 is a loopback address" },
		{ "[gateway]\nhost_loopback = nope\n",
		  "t.conf:4: [gateway] host_loopback: 'nope' is not an IPv4 address" },
		{ "[gateway]\nhost_loopback = 192.0.2.2\n",
		  "t.conf:4: [gateway] host_loopback: 192.0.2.2 is our own address" },
		{ "[gateway]\nhost_loopback6 = ::1\n", "t.conf:4: [gateway] host_loopback6: ::1 is" },
		{ "[gateway]\nhost_loopback6 = 192.0.2.9\n",
		  "t.conf:4: [gateway] host_loopback6: '192.0.2.9' is not an IPv6 address" },
		{ "[ipv6]\naddress = 2001:db8::2/64\n[gateway]\nhost_loopback6 = 2001:db8::2\n",
		  "t.conf:6: [gateway] host_loopback6: our own IPv6 address" },
		{ "[gateway]\nmax_flows = 0\n", "t.conf:4: [gateway] max_flows: 0 is out of range" },
		{ "[gateway]\ndns = ff02::1\n",
		  "t.conf:4: [gateway] dns: 'ff02::1' is not a unicast IPv4 or IPv6 address" },
		{ "[gateway]\ndns = 1.1.1.1, 2.2.2.2, 3.3.3.3, 4.4.4.4, 5.5.5.5\n",
		  "t.conf:4: [gateway] dns: more than 4 servers" },
		{ "[gateway]\nflow_buffer = 1K\n", "t.conf:4: [gateway] flow_buffer:" },
		{ "[gateway]\nwhat = 1\n",
		  "t.conf:4: unknown key 'what' in [gateway] (expected enabled, host_loopback," },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char text[256];

		snprintf(text, sizeof(text), "[ipv4]\naddress = 192.0.2.2/24\n%s", bad[i].text);
		assert_int_not_equal(load(&c, text, err, sizeof(err)), 0);
		if (strncmp(err, bad[i].msg, strlen(bad[i].msg)))
			fail_msg("got '%s', want '%s'", err, bad[i].msg);
		config_free(&c);
	}
}

/* [dns]: lists, hosts appended, defaults, errors with FILE:LINE */
static void test_dns_section(void **state)
{
	struct tapird_config c;
	char err[CONFIG_ERR_MAX], buf[TAPIR_ADDR_STRLEN];

	(void)state;
	load_ok(&c, "[ipv4]\naddress=192.0.2.2/24\n");
	assert_int_equal(c.dns_nservers, 0);
	assert_int_equal(c.dns_cache_size, 256);
	assert_true(c.dns_timeout_ns == 2000000000ull);
	assert_int_equal(c.dns_attempts, 2);
	assert_int_equal(c.dns_ndots, 1);
	config_free(&c);
	load_ok(&c, "[ipv4]\naddress=192.0.2.2/24\n[dns]\nservers = 192.0.2.1, 2001:db8::53\n"
		    "search = a.test b.test,c.test\nhosts = x=192.0.2.7, y.test=2001:db8::7\n"
		    "hosts = x=192.0.2.8\ncache_size = 0\ntimeout = 500ms\nattempts = 3\n"
		    "ndots = 2\n");
	assert_int_equal(c.dns_nservers, 2);
	assert_string_equal(tapir_addr_format(&c.dns_servers[1], buf), "2001:db8::53");
	assert_int_equal(c.dns_nsearch, 3);
	assert_string_equal(c.dns_search[2], "c.test");
	assert_int_equal(c.dns_nhosts, 3);
	assert_string_equal(c.dns_hosts[2].name, "x");
	assert_string_equal(tapir_addr_format(&c.dns_hosts[2].addr, buf), "192.0.2.8");
	assert_int_equal(c.dns_cache_size, 0);
	assert_int_equal(c.dns_attempts, 3);
	config_free(&c);
	static const struct bad bad[] = {
		{ "[ipv4]\naddress=10.0.0.1/24\n[dns]\nservers=192.0.2.300\n",
		  "t.conf:4: [dns] servers: '192.0.2.300' is not a unicast IPv4 or IPv6 address" },
		{ "[ipv4]\naddress=10.0.0.1/24\n[dns]\nservers=192.0.2.1, ff02::1\n",
		  "t.conf:4: [dns] servers: 'ff02::1' is not a unicast IPv4 or IPv6 address" },
		{ "[ipv4]\naddress=10.0.0.1/24\n[dns]\nservers=::\n",
		  "t.conf:4: [dns] servers: '::' is not a unicast IPv4 or IPv6 address" },
		{ "[ipv4]\naddress=10.0.0.1/24\n[dns]\nservers=1.1.1.1,1.1.1.2,1.1.1.3,1.1.1.4,1.1.1.5\n",
		  "t.conf:4: [dns] servers: more than 4 servers" },
		{ "[ipv4]\naddress=10.0.0.1/24\n[dns]\nsearch=a..b\n",
		  "t.conf:4: [dns] search: 'a..b' is not a domain name" },
		{ "[ipv4]\naddress=10.0.0.1/24\n[dns]\nhosts=x\n",
		  "t.conf:4: [dns] hosts: 'x' is not NAME=ADDRESS" },
		{ "[ipv4]\naddress=10.0.0.1/24\n[dns]\nhosts=x=1.2.3\n",
		  "t.conf:4: [dns] hosts: '1.2.3' is not an IPv4 or IPv6 address" },
		{ "[ipv4]\naddress=10.0.0.1/24\n[dns]\nattempts=0\n",
		  "t.conf:4: [dns] attempts: 0 is out of range (1 to 10)" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(load(&c, bad[i].text, err, sizeof(err)), -EINVAL);
		assert_string_equal(err, bad[i].msg);
		config_free(&c);
	}
}

static void test_key_tables(void **state)
{
	for (size_t i = 0; i < config_nsections; i++)
		check_table(config_sections[i].keys, config_sections[i].nkeys,
			    sizeof(struct tapird_config));
	check_table(config_kv_keys, config_kv_nkeys, sizeof(struct kv_config));
	for (size_t i = 0; i < app_builtin_nconfs; i++)
		check_table(app_builtin_confs[i]->keys, app_builtin_confs[i]->nkeys,
			    app_builtin_confs[i]->params_size);
	/* The generic setter: kinds, limits, messages */
	struct tapird_config c;
	char msg[CONFIG_ERR_MAX];
	config_init(&c);
	const struct tapir_conf_key *mtu = tapir_conf_key_find(config_sections[0].keys,
						   config_sections[0].nkeys, "mtu");
	assert_non_null(mtu);
	assert_int_equal(tapir_conf_key_set(mtu, &c, "9000", "x", msg, sizeof(msg)), 0);
	assert_int_equal(c.mtu, 9000);
	assert_int_equal(tapir_conf_key_set(mtu, &c, "70000", "x", msg, sizeof(msg)), -EINVAL);
	assert_string_equal(msg, "70000 is out of range (68 to 65521)");
	assert_int_equal(c.mtu, 9000);
	const struct tapir_conf_key *mac = tapir_conf_key_find(config_sections[0].keys,
						   config_sections[0].nkeys, "mac");
	assert_int_equal(tapir_conf_key_set(mac, &c, "02-00-5e-00-53-01", "x", msg, sizeof(msg)), 0);
	assert_true(c.mac_set);
	assert_int_equal(c.mac[5], 1);
	assert_null(tapir_conf_key_find(config_sections[0].keys, config_sections[0].nkeys, "nope"));
	/* the built-in types, in the order messages list them */
	static const char *const names[] = { "echo", "discard", "source", "http", "kvhttp",
					     "metrics" };
	assert_int_equal(app_builtin_nconfs, 6);
	for (size_t i = 0; i < app_builtin_nconfs; i++)
		assert_string_equal(app_builtin_confs[i]->name, names[i]);
	config_free(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_default),
		cmocka_unit_test(test_default_is_example),
		cmocka_unit_test(test_full),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_backend),
		cmocka_unit_test(test_dhcp),
		cmocka_unit_test(test_offload),
		cmocka_unit_test(test_busy_poll),
		cmocka_unit_test(test_first_error_wins),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_bootargs),
		cmocka_unit_test(test_load_file),
		cmocka_unit_test(test_tcp_section),
		cmocka_unit_test(test_ipv6_section),
		cmocka_unit_test(test_kv_http),
		cmocka_unit_test(test_key_tables),
		cmocka_unit_test(test_gateway_section),
		cmocka_unit_test(test_dns_section),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
