/* SPDX-License-Identifier: MPL-2.0 */
/* Unit tests of paceless-arbitrator's configuration: garbd's options, durations, config file. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "arb_opts.h"

static struct arb_opts o;
static char err[ARB_ERR_MAX];

/* Parses a NULL-terminated argument list (argv[0] added). */
static int parse(const char *first, ...)
{
	char *argv[32] = {"paceless-arbitrator"};
	int argc = 1;
	va_list ap;

	va_start(ap, first);
	for (const char *a = first; a && argc < 31; a = va_arg(ap, const char *))
		argv[argc++] = (char *)a;
	va_end(ap);
	arb_opts_free(&o);
	err[0] = '\0';
	return arb_opts_parse(&o, argc, argv, err, sizeof(err));
}

static void test_durations(void **state)
{
	static const struct {
		const char *s;
		uint32_t ms;
	} ok[] = {
		{"PT1S", 1000}, {"PT0.5S", 500}, {"PT1.25S", 1250}, {"PT1M30S", 90000},
		{"PT1H", 3600000}, {"PT0.001S", 1}, {"PT15S", 15000}, {"P0DT3S", 3000},
	};
	static const char *bad[] = {
		"", "P", "PT", "1S", "PT1", "PTS", "PT1.S", "PT-1S", "P1M", "P1Y", "PT0S", "PT0.0004S",
		"PT2H", "PT1S1M", "PT1SX", "pt1s", "5", "PT1M1M",
	};
	uint32_t ms;

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		assert_int_equal(arb_duration_ms(ok[i].s, &ms), 0);
		assert_int_equal(ms, ok[i].ms);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(arb_duration_ms(bad[i], &ms), CORE_EPARSE);
}

static void test_garbd_command_line(void **state)
{
	(void)state;
	assert_int_equal(parse("-a", "gcomm://192.0.2.1:4567,192.0.2.2", "-g", "my_cluster", "-o",
			       "gmcast.listen_addr=tcp://192.0.2.3:4568; pc.weight=2 ;"
			       "evs.keepalive_period=PT0.2S; evs.suspect_timeout=PT2S; "
			       "evs.inactive_timeout=PT6S",
			       "-n", "garb2", "-l", "/tmp/x.log", "-d", NULL),
			 0);
	assert_int_equal(o.n_peers, 2);
	assert_string_equal(o.peers[0], "192.0.2.1:4567");
	assert_string_equal(o.peers[1], "192.0.2.2:4567"); /* Galera's default port */
	assert_string_equal(o.listen, "192.0.2.3:4568");
	assert_string_equal(o.group, "my_cluster");
	assert_string_equal(o.name, "garb2");
	assert_true(o.daemon);
	assert_int_equal(o.weight, 2);
	assert_int_equal(o.keepalive_ms, 200);
	assert_int_equal(o.suspect_ms, 2000);
	assert_int_equal(o.inactive_ms, 6000);
	/* Defaults, and the address as garbd's trailing argument. */
	assert_int_equal(parse("-g", "c", "gcomm://[2001:db8::1]:4000", NULL), 0);
	assert_string_equal(o.peers[0], "[2001:db8::1]:4000");
	assert_string_equal(o.name, ARB_NAME_DEFAULT);
	assert_string_equal(o.listen, ARB_LISTEN_DEFAULT);
	assert_int_equal(o.weight, 1);
	assert_int_equal(o.suspect_ms, 0);
	assert_int_equal(parse("--help", NULL), 0);
	assert_true(o.help);
	assert_int_equal(parse("-v", NULL), 0);
	assert_true(o.version);
}

/* Every refusal names what it refuses. */
static void test_refusals(void **state)
{
	static const struct {
		const char *a[8];
		int rc;
		const char *names;
	} cases[] = {
		{{"--frob"}, CORE_EUNSUPP, "--frob"},
		{{"--sst", "x"}, CORE_EUNSUPP, "--sst"},
		{{"--donor", "x"}, CORE_EUNSUPP, "--donor"},
		{{"-a"}, CORE_EPARSE, "needs a value"},
		{{"-g", "c"}, CORE_EPARSE, "-a gcomm://"},
		{{"-a", "gcomm://192.0.2.1"}, CORE_EPARSE, "-g"},
		{{"-a", "gcomm://", "-g", "c"}, CORE_EUNSUPP, "bootstrap"},
		{{"-a", "tcp://192.0.2.1", "-g", "c"}, CORE_EUNSUPP, "gcomm://"},
		{{"-a", "gcomm://192.0.2.1?pc.wait_prim=no", "-g", "c"}, CORE_EUNSUPP, "'?'"},
		{{"-a", "gcomm://192.0.2.1:99999", "-g", "c"}, CORE_EPARSE, "bad port"},
		{{"-a", "gcomm://2001:db8::1", "-g", "c"}, CORE_EPARSE, "[addr]:port"},
		{{"-a", "gcomm://192.0.2.1", "-g", "c", "-o", "gmcast.segment=1"}, CORE_EUNSUPP,
		 "'gmcast.segment'"},
		{{"-a", "gcomm://192.0.2.1", "-g", "c", "-o", "pc.weight=256"}, CORE_EPARSE,
		 "pc.weight"},
		{{"-a", "gcomm://192.0.2.1", "-g", "c", "-o", "evs.suspect_timeout=5"}, CORE_EPARSE,
		 "evs.suspect_timeout"},
		{{"-a", "gcomm://192.0.2.1", "-g", "c", "-o", "gmcast.listen_addr=ssl://0.0.0.0:1"},
		 CORE_EPARSE, "needs socket.ssl_cert and socket.ssl_key"},
		{{"-a", "gcomm://192.0.2.1", "-g", "c", "-o", "socket.ssl=yes"}, CORE_EPARSE,
		 "needs socket.ssl_cert"},
		{{"-a", "gcomm://192.0.2.1", "-g", "c", "-o", "socket.ssl_ca=/ca.pem"}, CORE_EPARSE,
		 "needs socket.ssl_cert"},
		{{"-a", "gcomm://192.0.2.1", "-g", "c", "-o", "socket.ssl_key=/k.pem"}, CORE_EPARSE,
		 "socket.ssl_key needs socket.ssl_cert"},
		{{"-a", "gcomm://192.0.2.1", "-g", "c", "-o", "socket.ssl=perhaps"}, CORE_EPARSE,
		 "socket.ssl"},
		{{"-a", "gcomm://192.0.2.1", "-g", "c", "-o", "socket.ssl_cert="}, CORE_EPARSE,
		 "empty"},
		{{"-a", "gcomm://192.0.2.1", "-g", "c", "-o",
		  "socket.ssl=no; socket.ssl_cert=/c; socket.ssl_key=/k; gmcast.listen_addr=ssl://"
		  "0.0.0.0:1"}, CORE_EPARSE, "contradicts"},
		{{"-a", "gcomm://192.0.2.1", "-g", "c", "-o", "socket.ssl_compression=yes"},
		 CORE_EUNSUPP, "socket.ssl_compression"},
		{{"-a", "gcomm://192.0.2.1", "-g", "c", "-o", "socket.ssl_password_file=/p"},
		 CORE_EUNSUPP, "unencrypted key"},
		{{"-a", "gcomm://192.0.2.1", "-g", "c", "-o", "socket.ssl_reload=1"}, CORE_EUNSUPP,
		 "restart"},
		{{"-a", "gcomm://192.0.2.1", "-g", "c", "-o", "socket.dynamic=yes"}, CORE_EUNSUPP,
		 "socket.dynamic"},
		{{"-a", "gcomm://192.0.2.1", "-g", "c", "-o", "socket.checksum=2"}, CORE_EUNSUPP,
		 "'socket.checksum'"},
		{{"-a", "gcomm://192.0.2.1", "-g", "c", "-o", "gmcast.listen_addr=tcp://host:1"},
		 CORE_EPARSE, "numeric"},
		{{"-a", "gcomm://192.0.2.1", "-g", "c", "-o", "pc.weight"}, CORE_EPARSE, "key=value"},
		{{"-a", "gcomm://192.0.2.1", "-g", "c", "extra", "args"}, CORE_EPARSE, "unexpected"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *const *a = cases[i].a;

		assert_int_equal(parse(a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7]), cases[i].rc);
		if (!strstr(err, cases[i].names))
			fail_msg("case %zu: '%s' does not name '%s'", i, err, cases[i].names);
	}
}

/* garbd's TLS options map to grp_node_config.tls; socket.ssl=no wins over the files. */
static void test_tls_options(void **state)
{
	(void)state;
	assert_int_equal(parse("-a", "gcomm://192.0.2.1", "-g", "c", "-o",
			       "gmcast.listen_addr=ssl://192.0.2.9:4567; socket.ssl_cert=/c.pem; "
			       "socket.ssl_key = /k.pem; socket.ssl_ca=/ca.pem; "
			       "socket.ssl_cipher=ECDHE+AESGCM; socket.ssl_compression=NO",
			       NULL),
			 0);
	assert_string_equal(o.listen, "192.0.2.9:4567");
	assert_string_equal(o.ssl_cert, "/c.pem");
	assert_string_equal(o.ssl_key, "/k.pem");
	assert_string_equal(o.ssl_ca, "/ca.pem");
	assert_string_equal(o.ssl_cipher, "ECDHE+AESGCM");
	/* Certificate and key alone turn TLS on (Galera: they imply socket.ssl); tcp:// too. */
	assert_int_equal(parse("-a", "gcomm://192.0.2.1", "-g", "c", "-o",
			       "gmcast.listen_addr=tcp://0.0.0.0:4567; socket.ssl_cert=/c.pem; "
			       "socket.ssl_key=/k.pem; socket.ssl_cert=/c2.pem", NULL),
			 0);
	assert_string_equal(o.ssl_cert, "/c2.pem");
	assert_null(o.ssl_ca);
	assert_int_equal(parse("-a", "gcomm://192.0.2.1", "-g", "c", "-o",
			       "socket.ssl_cert=/c.pem; socket.ssl_key=/k.pem; socket.ssl=off",
			       NULL),
			 0);
	assert_null(o.ssl_cert);
	assert_null(o.ssl_key);
	assert_int_equal(parse("-a", "gcomm://192.0.2.1", "-g", "c", NULL), 0);
	assert_null(o.ssl_cert);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void test_config_file(void **state)
{
	char path[] = "/tmp/test_arb_opts-XXXXXX";
	int fd = mkstemp(path);

	(void)state;
	assert_true(fd >= 0);
	close(fd);
	write_file(path, "# garbd config file\n"
			 "daemon=1\n"
			 "address=\"gcomm://192.0.2.1:4567\"\n"
			 "  group = 'from_file'   # a comment\n"
			 "options=\"gmcast.listen_addr=tcp://192.0.2.3:4567; pc.weight=3\"\n"
			 "log=\"/tmp/garb.log\"\n\n");
	/* The command line wins over the file. */
	assert_int_equal(parse("-c", path, "-g", "from_cli", NULL), 0);
	assert_string_equal(o.group, "from_cli");
	assert_string_equal(o.peers[0], "192.0.2.1:4567");
	assert_string_equal(o.listen, "192.0.2.3:4567");
	assert_string_equal(o.log, "/tmp/garb.log");
	assert_int_equal(o.weight, 3);
	assert_true(o.daemon);
	write_file(path, "address=gcomm://192.0.2.1\ngroup=g\nsegment=2\n");
	assert_int_equal(parse("-c", path, NULL), CORE_EUNSUPP);
	assert_non_null(strstr(err, ":3: unknown key 'segment'"));
	write_file(path, "address=gcomm://192.0.2.1\nsst=xtrabackup\n");
	assert_int_equal(parse("-c", path, NULL), CORE_EUNSUPP);
	assert_non_null(strstr(err, ":2: backup state transfers"));
	write_file(path, "address gcomm://192.0.2.1\n");
	assert_int_equal(parse("-c", path, NULL), CORE_EPARSE);
	assert_non_null(strstr(err, ":1: expected key=value"));
	unlink(path);
	assert_int_equal(parse("-c", path, NULL), CORE_EPARSE);
	assert_non_null(strstr(err, path));
	arb_opts_free(&o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_durations),
		cmocka_unit_test(test_garbd_command_line),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_tls_options),
		cmocka_unit_test(test_config_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
