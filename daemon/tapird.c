/*
 * tapird.c - the tapir daemon: configuration, libuv loop, backend, stack, apps
 *
 * Theory of operation
 *
 * main() builds the whole configuration first (built-in default or --config
 * FILE, then boot arguments, then config_finish()) and exits 2 with
 * "WHERE: what is wrong" if anything is wrong, before touching the network.
 * It then opens the TAP, wraps it in the impairment layer when one is
 * configured, creates the stack on it, starts the apps and runs a libuv loop:
 *
 *   uv_poll (TAP readable) -> tap_read_batch(): each frame to stack_input()
 *                             (through impair_rx() when impairing), then
 *                             stack_flush()
 *   uv_timer               -> impair_poll(), stack_poll(), stack_flush()
 *   uv_signal INT, TERM    -> stop the apps, close the handles; main frees
 *                             everything and exits 0
 *
 * After every event the one timer is re-armed from the earlier of
 * stack_next_deadline() and impair_next_deadline().  Time is uv_hrtime()
 * (monotonic ns); the stack's randomness comes from OpenSSL's RAND_bytes().
 *
 * Exit status: 0 after SIGINT/SIGTERM or --help/--version, 2 for a bad
 * configuration or argument, 1 when the network cannot be set up or fails.
 */
#include <errno.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <uv.h>

#include "apps.h"
#include "config.h"
#include "impair.h"
#include "log.h"
#include "stack.h"
#include "tap.h"
#include "tapir_version.h"

struct running_app {
	const struct app_type *type;
	const struct app_config *cfg;
	void *state;
};

struct daemon {
	uv_loop_t loop;
	uv_poll_t poll;
	uv_timer_t timer;
	uv_signal_t sigint, sigterm;
	bool handles_open;
	struct tapird_config cfg;
	struct logger log;
	struct tap *tap;
	struct impair *im;
	struct stack *st;
	struct running_app *apps;
	size_t napps;
	uint64_t now;
	int exit_code;
	bool stopping;
};

/* ---- randomness and logging for the stack ---- */

static void random_bytes(void *ctx, void *buf, size_t len)
{
	if (RAND_bytes(buf, (int)len) == 1)
		return;
	/* OpenSSL failed (it never should): ask the kernel directly. */
	uint8_t *p = buf;
	while (len) {
		ssize_t n = getrandom(p, len, 0);
		if (n < 0)
			continue;  /* EINTR; the call does not otherwise fail */
		p += n;
		len -= (size_t)n;
	}
}

static void stack_log(void *ctx, enum stack_log_level level, const char *msg)
{
	struct daemon *d = ctx;
	log_msg(&d->log, (enum config_log_level)level, "stack: %s", msg);
}

/* ---- the loop ---- */

static void on_timer(uv_timer_t *t);

static void rearm(struct daemon *d)
{
	if (d->stopping)
		return;
	uint64_t deadline = stack_next_deadline(d->st);
	if (d->im) {
		uint64_t i = impair_next_deadline(d->im);
		if (i < deadline)
			deadline = i;
	}
	if (deadline == STACK_NO_DEADLINE) {
		uv_timer_stop(&d->timer);
		return;
	}
	uint64_t now = uv_hrtime();
	uint64_t ms = 0;
	/* libuv timers have millisecond resolution: round up, never early. */
	if (deadline > now)
		ms = (deadline - now + 999999) / 1000000;
	uv_update_time(&d->loop);
	uv_timer_start(&d->timer, on_timer, ms, 0);
}

static void deliver(void *ctx, const uint8_t *frame, size_t len)
{
	struct daemon *d = ctx;
	stack_input(d->st, frame, len, d->now);
}

static void on_frame(void *ctx, const uint8_t *frame, size_t len)
{
	struct daemon *d = ctx;
	if (d->im)
		impair_rx(d->im, frame, len);
	else
		stack_input(d->st, frame, len, d->now);
}

static void stop(struct daemon *d, int code);

static void on_readable(uv_poll_t *p, int status, int events)
{
	struct daemon *d = p->data;
	if (status < 0) {
		log_err(&d->log, "%s: poll: %s", tap_name(d->tap), uv_strerror(status));
		stop(d, 1);
		return;
	}
	d->now = uv_hrtime();
	if (d->im)
		impair_poll(d->im, d->now);
	int n = tap_read_batch(d->tap, on_frame, d);
	stack_flush(d->st);
	if (n < 0) {
		log_err(&d->log, "%s: read: %s", tap_name(d->tap), strerror(-n));
		stop(d, 1);
		return;
	}
	rearm(d);
}

static void on_timer(uv_timer_t *t)
{
	struct daemon *d = t->data;
	d->now = uv_hrtime();
	if (d->im)
		impair_poll(d->im, d->now);
	stack_poll(d->st, d->now);
	stack_flush(d->st);
	rearm(d);
}

static void on_signal(uv_signal_t *s, int signum)
{
	struct daemon *d = s->data;
	log_info(&d->log, "%s: stopping", signum == SIGINT ? "SIGINT" : "SIGTERM");
	stop(d, d->exit_code);
}

static void stop_apps(struct daemon *d)
{
	for (size_t i = d->napps; i-- > 0;)
		d->apps[i].type->stop(d->apps[i].state);
	free(d->apps);
	d->apps = NULL;
	d->napps = 0;
}

static void stop(struct daemon *d, int code)
{
	if (d->stopping)
		return;
	d->stopping = true;
	d->exit_code = code;
	stop_apps(d);
	if (d->handles_open) {
		uv_close((uv_handle_t *)&d->poll, NULL);
		uv_close((uv_handle_t *)&d->timer, NULL);
		uv_close((uv_handle_t *)&d->sigint, NULL);
		uv_close((uv_handle_t *)&d->sigterm, NULL);
		d->handles_open = false;
	}
}

/* ---- start-up ---- */

static void usage(FILE *f)
{
	fprintf(f,
		"usage: tapird [--config FILE] [--section.key=value ...]\n"
		"       tapird --help | --version\n"
		"\n"
		"Run a tapir stack on a TAP interface with the applications configured.\n"
		"\n"
		"  --config FILE   read the configuration from FILE (INI) instead of the\n"
		"                  built-in default (shipped as conf/tapird.conf)\n"
		"  --section.key=value\n"
		"                  boot argument: override any key, e.g. --netif.mtu=9000,\n"
		"                  --ipv4.address=198.51.100.2/24, --app.echo.port=7007,\n"
		"                  --netif.impair.loss=1%%; split as MirageOS does (\\\n"
		"                  escapes, \"...\" quotes)\n"
		"  --help          show this help\n"
		"  --version       show the version\n"
		"\n"
		"Exit status: 0 stopped by SIGINT/SIGTERM, 1 network error,\n"
		"2 bad configuration or argument.\n");
}

static int start_network(struct daemon *d)
{
	struct tapird_config *c = &d->cfg;
	char err[CONFIG_ERR_MAX];
	char mac[18], addr[16];

	if (!c->mac_set) {
		random_bytes(NULL, c->mac, 6);
		c->mac[0] = (uint8_t)((c->mac[0] & 0xfe) | 0x02);  /* unicast, local */
	}
	int rc = tap_open(&d->tap, c->ifname, c->mtu, c->mac, err, sizeof(err));
	if (rc) {
		log_err(&d->log, "%s", err);
		return -1;
	}
	if (!tap_created(d->tap)) {
		int kmtu = tap_kernel_mtu(d->tap);
		if (kmtu > 0 && (uint32_t)kmtu != c->mtu)
			log_warn(&d->log, "%s existed with MTU %d; ours is %u", tap_name(d->tap),
				 kmtu, c->mtu);
	}
	struct netif nif;
	tap_netif(d->tap, &nif);
	if (impair_config_active(&c->impair)) {
		if (!c->impair_seed_set)
			random_bytes(NULL, &c->impair.seed, sizeof(c->impair.seed));
		d->im = impair_new(&c->impair, &nif, deliver, d);
		if (!d->im) {
			log_err(&d->log, "out of memory");
			return -1;
		}
		const struct impair_config *i = &c->impair;
		log_info(&d->log,
			 "impairment (%s): loss %uppm duplicate %uppm reorder %uppm corrupt "
			 "%uppm delay %lluns jitter %lluns seed %llu",
			 i->tx && i->rx ? "both" : i->tx ? "tx" : "rx", i->loss_ppm, i->dup_ppm,
			 i->reorder_ppm, i->corrupt_ppm, (unsigned long long)i->delay_ns,
			 (unsigned long long)i->jitter_ns, (unsigned long long)i->seed);
		impair_netif(d->im, &nif);
	}

	struct stack_config sc;
	stack_config_defaults(&sc);
	sc.addr = c->addr;
	sc.prefix_len = c->prefix_len;
	sc.gateway = c->gateway;
	sc.default_ttl = c->ttl;
	sc.arp_cache_size = (size_t)c->arp_cache_size;
	sc.arp_timeout_ns = c->arp_timeout_ns;
	sc.reasm_max_bytes = (size_t)c->reasm_max_bytes;
	sc.reasm_timeout_ns = c->reasm_timeout_ns;
	sc.icmp_error_rate = c->icmp_error_rate;
	sc.icmp_error_burst = c->icmp_error_burst;
	sc.tcp = c->tcp;
	sc.random = random_bytes;
	sc.log = stack_log;
	sc.log_ctx = d;
	d->now = uv_hrtime();
	if (d->im)
		impair_poll(d->im, d->now);
	rc = stack_new(&d->st, &sc, &nif, d->now);
	if (rc) {
		log_err(&d->log, "cannot create the stack: %s", strerror(-rc));
		return -1;
	}

	d->apps = calloc(c->napps ? c->napps : 1, sizeof(*d->apps));
	if (!d->apps) {
		log_err(&d->log, "out of memory");
		return -1;
	}
	for (size_t i = 0; i < c->napps; i++) {
		const struct app_type *t = app_type_find(c->apps[i].type);
		if (!t) {  /* config.c and apps.c disagree: a bug */
			log_err(&d->log, "app %s: type %s has no implementation",
				c->apps[i].name, c->apps[i].type);
			return -1;
		}
		rc = t->start(d->st, &c->apps[i], &d->log, &d->apps[d->napps].state);
		if (rc)
			return -1;
		d->apps[d->napps].type = t;
		d->apps[d->napps].cfg = &c->apps[i];
		d->napps++;
	}
	stack_start(d->st, d->now);
	stack_flush(d->st);

	printf("tapird: %s %s %s/%u mtu %u up\n", tap_name(d->tap),
	       config_format_mac(c->mac, mac), config_format_ipv4(c->addr, addr),
	       c->prefix_len, c->mtu);
	fflush(stdout);
	log_info(&d->log, "%s %s %s/%u mtu %u%s, %zu app(s)", tap_name(d->tap), mac, addr,
		 c->prefix_len, c->mtu, tap_created(d->tap) ? " (created)" : "", d->napps);
	return 0;
}

static int start_loop(struct daemon *d)
{
	int rc = uv_loop_init(&d->loop);
	if (rc) {
		log_err(&d->log, "uv_loop_init: %s", uv_strerror(rc));
		return -1;
	}
	/* These cannot fail on an initialised loop. */
	uv_timer_init(&d->loop, &d->timer);
	uv_signal_init(&d->loop, &d->sigint);
	uv_signal_init(&d->loop, &d->sigterm);
	rc = uv_poll_init(&d->loop, &d->poll, tap_fd(d->tap));
	if (rc) {
		log_err(&d->log, "%s: cannot poll: %s", tap_name(d->tap), uv_strerror(rc));
		uv_close((uv_handle_t *)&d->timer, NULL);
		uv_close((uv_handle_t *)&d->sigint, NULL);
		uv_close((uv_handle_t *)&d->sigterm, NULL);
		return -1;
	}
	d->handles_open = true;
	d->poll.data = d->timer.data = d->sigint.data = d->sigterm.data = d;
	if ((rc = uv_poll_start(&d->poll, UV_READABLE, on_readable)) ||
	    (rc = uv_signal_start(&d->sigint, on_signal, SIGINT)) ||
	    (rc = uv_signal_start(&d->sigterm, on_signal, SIGTERM))) {
		log_err(&d->log, "libuv: %s", uv_strerror(rc));
		return -1;
	}
	rearm(d);
	return 0;
}

static void cleanup(struct daemon *d, bool loop_ok)
{
	stop_apps(d);
	if (loop_ok) {
		if (d->handles_open) {
			d->stopping = true;
			uv_close((uv_handle_t *)&d->poll, NULL);
			uv_close((uv_handle_t *)&d->timer, NULL);
			uv_close((uv_handle_t *)&d->sigint, NULL);
			uv_close((uv_handle_t *)&d->sigterm, NULL);
			d->handles_open = false;
		}
		uv_run(&d->loop, UV_RUN_DEFAULT);  /* run the close callbacks */
		uv_loop_close(&d->loop);
	}
	stack_free(d->st);
	impair_free(d->im);
	tap_close(d->tap);
	config_free(&d->cfg);
}

/* Parse options, configuration and boot arguments.  Return: -1 to go on, or an exit code */
static int configure(struct daemon *d, int argc, char **argv)
{
	const char *file = NULL;
	int i = 1;
	for (; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			usage(stdout);
			return 0;
		}
		if (!strcmp(a, "--version") || !strcmp(a, "-V")) {
			printf("tapird %s\n", TAPIR_VERSION);
			return 0;
		}
		if (!strcmp(a, "--config")) {
			if (i + 1 == argc) {
				fprintf(stderr, "tapird: --config needs a FILE\n");
				usage(stderr);
				return 2;
			}
			file = argv[++i];
		} else if (!strncmp(a, "--config=", 9)) {
			file = a + 9;
		} else if (!strcmp(a, "--")) {
			i++;
			break;
		} else {
			break;  /* boot arguments from here on */
		}
	}

	char err[CONFIG_ERR_MAX];
	int rc;
	config_init(&d->cfg);
	if (file)
		rc = config_load_file(&d->cfg, file, err, sizeof(err));
	else
		rc = config_parse_ini(&d->cfg, "(built-in)", config_default_ini,
				      strlen(config_default_ini), err, sizeof(err));
	if (!rc)
		rc = config_apply_args(&d->cfg, argv + i, (size_t)(argc - i), err, sizeof(err));
	if (!rc)
		rc = config_finish(&d->cfg, file ? file : "(built-in)", err, sizeof(err));
	if (rc) {
		fprintf(stderr, "%s\n", rc == -ENOMEM ? "tapird: out of memory" : err);
		return 2;
	}
	return -1;
}

int main(int argc, char **argv)
{
	static struct daemon d;  /* static: big, and zeroed */
	logger_init(&d.log, CONFIG_LOG_INFO, false);

	int code = configure(&d, argc, argv);
	if (code >= 0) {
		config_free(&d.cfg);
		return code;
	}
	logger_init(&d.log, d.cfg.log_level, d.cfg.log_timestamps);

	if (start_network(&d) < 0) {
		cleanup(&d, false);
		return 1;
	}
	if (start_loop(&d) < 0) {
		cleanup(&d, true);
		return 1;
	}
	uv_run(&d.loop, UV_RUN_DEFAULT);
	code = d.exit_code;
	cleanup(&d, true);
	return code;
}
