/* SPDX-License-Identifier: MPL-2.0 */
/* paceless-dhcpd's daemon: the event loop around the pure server, the lease journal and control. */
#ifndef DHCP_DAEMON_H
#define DHCP_DAEMON_H

#include <stdbool.h>
#include <stdint.h>

struct dhcp_daemon_opts {
	const char *conf_path;  /* -cf */
	const char *lease_path; /* -lf; NULL: lease-file-name from the config, or the default */
	const char *pid_path;   /* -pf; NULL: pid-file-name from the config, or the default */
	const char *ctl_path;   /* --ctl */
	const char *const *ifnames; /* trailing interface names, NULL-terminated */
	uint16_t port;          /* -p; 0 = local-port from the config, or 67 */
	bool foreground;        /* -f or -d */
	bool debug;             /* -d: log to stderr */
	bool quiet;             /* -q */
	bool no_pid;            /* --no-pid */
};

#define DHCP_DEFAULT_CONF "/etc/dhcp/dhcpd.conf"
#define DHCP_DEFAULT_LEASES "/var/lib/dhcp/dhcpd.leases"
#define DHCP_DEFAULT_PID "/var/run/dhcpd.pid"
#define DHCP_DEFAULT_CTL "/run/paceless-dhcpd.ctl"

/* -t: parses the config; prints the error. Returns the process exit status. */
int dhcp_daemon_check_conf(const struct dhcp_daemon_opts *o);
/* -T: parses the config and the lease file. Returns the process exit status. */
int dhcp_daemon_check_leases(const struct dhcp_daemon_opts *o);
/* Runs the server until SIGTERM/SIGINT. Returns the process exit status. */
int dhcp_daemon_run(const struct dhcp_daemon_opts *o);

#endif
