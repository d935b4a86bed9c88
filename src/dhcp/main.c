/* SPDX-License-Identifier: MPL-2.0 */
/* paceless-dhcpd: ISC dhcpd 4.4's command line over the paceless DHCP server. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core_log.h"
#include "dhcp_daemon.h"

#define IFNAMES_MAX 64

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: paceless-dhcpd [-p PORT] [-f] [-d] [-q] [-t|-T] [-4] [-cf CONFIG-FILE]\n"
		"                      [-lf LEASE-FILE] [-pf PID-FILE] [--no-pid] [--ctl SOCKET]\n"
		"                      [IFNAME ...]\n"
		"       paceless-dhcpd --version | --help\n"
		"\n"
		"A DHCPv4 server that reads ISC dhcpd's dhcpd.conf and dhcpd.leases.\n"
		"  -cf FILE   configuration (default " DHCP_DEFAULT_CONF ")\n"
		"  -lf FILE   lease file (default " DHCP_DEFAULT_LEASES ")\n"
		"  -pf FILE   pid file (default " DHCP_DEFAULT_PID ")\n"
		"  --ctl PATH control socket for pacelessctl (default " DHCP_DEFAULT_CTL ")\n"
		"  -f         stay in the foreground;  -d  foreground, log to stderr\n"
		"  -q         quiet start-up;  -t  check the configuration;  -T  check the lease file\n"
		"  -p PORT    listen on PORT instead of 67\n"
		"  IFNAME     serve only these interfaces (default: every interface with an\n"
		"             address in a declared subnet)\n");
}

static int need_arg(int argc, char **argv, int i)
{
	if (i + 1 >= argc) {
		fprintf(stderr, "paceless-dhcpd: %s needs an argument\n", argv[i]);
		exit(1);
	}
	return i + 1;
}

/* ISC's flags that we do not implement: each is refused with what to do instead. */
static const char *refused(const char *a)
{
	static const struct {
		const char *flag, *why;
	} list[] = {
		{"-6", "DHCPv6 is not supported; run paceless-dhcpd for DHCPv4 (-4)"},
		{"-s", "-s (send to a server) is a test option of ISC's and is not supported"},
		{"-tf", "trace files are not supported"},
		{"-play", "trace playback is not supported"},
		{"-user", "run under a service manager's User= instead of -user"},
		{"-group", "run under a service manager's Group= instead of -group"},
		{"-chroot", "use the service manager's RootDirectory= instead of -chroot"},
		{"--no-pid-check", NULL},
	};

	for (size_t i = 0; i < sizeof(list) / sizeof(list[0]); i++)
		if (!strcmp(a, list[i].flag))
			return list[i].why ? list[i].why : "not supported";
	return NULL;
}

int main(int argc, char **argv)
{
	static const char *ifnames[IFNAMES_MAX + 1];
	struct dhcp_daemon_opts o = {.conf_path = DHCP_DEFAULT_CONF, .ctl_path = DHCP_DEFAULT_CTL,
				     .ifnames = ifnames};
	bool check_conf = false, check_leases = false;
	size_t nif = 0;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "-cf"))
			o.conf_path = argv[i = need_arg(argc, argv, i)];
		else if (!strcmp(a, "-lf"))
			o.lease_path = argv[i = need_arg(argc, argv, i)];
		else if (!strcmp(a, "-pf"))
			o.pid_path = argv[i = need_arg(argc, argv, i)];
		else if (!strcmp(a, "--ctl"))
			o.ctl_path = argv[i = need_arg(argc, argv, i)];
		else if (!strcmp(a, "-p")) {
			long port = strtol(argv[i = need_arg(argc, argv, i)], NULL, 10);

			if (port <= 0 || port > 65535) {
				fprintf(stderr, "paceless-dhcpd: bad port %s\n", argv[i]);
				return 1;
			}
			o.port = (uint16_t)port;
		} else if (!strcmp(a, "-f"))
			o.foreground = true;
		else if (!strcmp(a, "-d"))
			o.foreground = o.debug = true;
		else if (!strcmp(a, "-q"))
			o.quiet = true;
		else if (!strcmp(a, "-t"))
			check_conf = true;
		else if (!strcmp(a, "-T"))
			check_leases = true;
		else if (!strcmp(a, "-4"))
			;
		else if (!strcmp(a, "--no-pid"))
			o.no_pid = true;
		else if (!strcmp(a, "--version")) {
			printf("paceless-dhcpd %s (isc-dhcpd-4.4 compatible)\n", PACELESS_VERSION);
			return 0;
		} else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			usage(stdout);
			return 0;
		} else if (refused(a)) {
			fprintf(stderr, "paceless-dhcpd: %s: %s\n", a, refused(a));
			return 1;
		} else if (a[0] == '-') {
			fprintf(stderr, "paceless-dhcpd: unknown option %s\n", a);
			usage(stderr);
			return 1;
		} else if (nif == IFNAMES_MAX) {
			fprintf(stderr, "paceless-dhcpd: more than %d interfaces\n", IFNAMES_MAX);
			return 1;
		} else {
			ifnames[nif++] = a;
		}
	}
	/* Like ISC: messages go to stderr for -d and the checks, else to syslog. */
	core_log_open("paceless-dhcpd", true, -1);
	if (getenv("PACELESS_DEBUG"))
		core_log_level_max = CORE_LOG_DEBUG;
	if (check_conf || check_leases)
		return check_leases ? dhcp_daemon_check_leases(&o) : dhcp_daemon_check_conf(&o);
	return dhcp_daemon_run(&o);
}
