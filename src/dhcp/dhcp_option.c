/* SPDX-License-Identifier: MPL-2.0 */
/* The DHCP option table: standard names, codes and value formats of the "dhcp" space. */
#include <stddef.h>
#include <strings.h>

#include "core_assert.h"
#include "dhcp_option.h"

/*
 * Names and value types follow dhcp-options(5) of ISC dhcpd 4.4; codes are RFC 2132 and later
 * assignments. Encapsulating options (43, 63, 125) take their value as raw bytes ("X"): we
 * have no option spaces. Options the relay agent or the client fills in (81, 82, 124) are
 * left out so that setting them is an "unknown option" error rather than a silent no-op.
 */
static const struct dhcp_option_def dhcp_option_table[] = {
    {"subnet-mask", 1, "I"},
    {"time-offset", 2, "l"},
    {"routers", 3, "IA"},
    {"time-servers", 4, "IA"},
    {"ien116-name-servers", 5, "IA"},
    {"domain-name-servers", 6, "IA"},
    {"log-servers", 7, "IA"},
    {"cookie-servers", 8, "IA"},
    {"lpr-servers", 9, "IA"},
    {"impress-servers", 10, "IA"},
    {"resource-location-servers", 11, "IA"},
    {"host-name", 12, "t"},
    {"boot-size", 13, "S"},
    {"merit-dump", 14, "t"},
    {"domain-name", 15, "t"},
    {"swap-server", 16, "I"},
    {"root-path", 17, "t"},
    {"extensions-path", 18, "t"},
    {"ip-forwarding", 19, "f"},
    {"non-local-source-routing", 20, "f"},
    {"policy-filter", 21, "IIA"},
    {"max-dgram-reassembly", 22, "S"},
    {"default-ip-ttl", 23, "B"},
    {"path-mtu-aging-timeout", 24, "L"},
    {"path-mtu-plateau-table", 25, "SA"},
    {"interface-mtu", 26, "S"},
    {"all-subnets-local", 27, "f"},
    {"broadcast-address", 28, "I"},
    {"perform-mask-discovery", 29, "f"},
    {"mask-supplier", 30, "f"},
    {"router-discovery", 31, "f"},
    {"router-solicitation-address", 32, "I"},
    {"static-routes", 33, "IIA"},
    {"trailer-encapsulation", 34, "f"},
    {"arp-cache-timeout", 35, "L"},
    {"ieee802-3-encapsulation", 36, "f"},
    {"default-tcp-ttl", 37, "B"},
    {"tcp-keepalive-interval", 38, "L"},
    {"tcp-keepalive-garbage", 39, "f"},
    {"nis-domain", 40, "t"},
    {"nis-servers", 41, "IA"},
    {"ntp-servers", 42, "IA"},
    {"vendor-encapsulated-options", 43, "X"},
    {"netbios-name-servers", 44, "IA"},
    {"netbios-dd-server", 45, "IA"},
    {"netbios-node-type", 46, "B"},
    {"netbios-scope", 47, "t"},
    {"font-servers", 48, "IA"},
    {"x-display-manager", 49, "IA"},
    {"dhcp-requested-address", 50, "I"},
    {"dhcp-lease-time", 51, "L"},
    {"dhcp-option-overload", 52, "B"},
    {"dhcp-message-type", 53, "B"},
    {"dhcp-server-identifier", 54, "I"},
    {"dhcp-parameter-request-list", 55, "BA"},
    {"dhcp-message", 56, "t"},
    {"dhcp-max-message-size", 57, "S"},
    {"dhcp-renewal-time", 58, "L"},
    {"dhcp-rebinding-time", 59, "L"},
    {"vendor-class-identifier", 60, "X"},
    {"dhcp-client-identifier", 61, "X"},
    {"nwip-domain", 62, "X"},
    {"nwip-suboptions", 63, "X"},
    {"nisplus-domain", 64, "t"},
    {"nisplus-servers", 65, "IA"},
    {"tftp-server-name", 66, "t"},
    {"bootfile-name", 67, "t"},
    {"mobile-ip-home-agent", 68, "IA"},
    {"smtp-server", 69, "IA"},
    {"pop-server", 70, "IA"},
    {"nntp-server", 71, "IA"},
    {"www-server", 72, "IA"},
    {"finger-server", 73, "IA"},
    {"irc-server", 74, "IA"},
    {"streettalk-server", 75, "IA"},
    {"streettalk-directory-assistance-server", 76, "IA"},
    {"user-class", 77, "X"},
    {"slp-directory-agent", 78, "fIa"},
    {"slp-service-scope", 79, "fto"},
    {"nds-servers", 85, "IA"},
    {"nds-tree-name", 86, "X"},
    {"nds-context", 87, "X"},
    {"bcms-controller-names", 88, "D"},
    {"bcms-controller-address", 89, "IA"},
    {"client-last-transaction-time", 91, "L"},
    {"associated-ip", 92, "IA"},
    {"pxe-system-type", 93, "SA"},
    {"pxe-interface-id", 94, "BBB"},
    {"pxe-client-id", 97, "BX"},
    {"uap-servers", 98, "t"},
    {"geoconf-civic", 99, "X"},
    {"pcode", 100, "t"},
    {"tcode", 101, "t"},
    {"v6-only-preferred", 108, "L"},
    {"netinfo-server-address", 112, "IA"},
    {"netinfo-server-tag", 113, "t"},
    {"default-url", 114, "t"},
    {"name-service-search", 117, "SA"},
    {"subnet-selection", 118, "I"},
    {"domain-search", 119, "Dc"},
    {"vivso", 125, "X"},
    {"pana-agent", 136, "IA"},
    {"v4-lost", 137, "d"},
    {"capwap-ac-v4", 138, "IA"},
    {"rdnss-selection", 146, "BIId"},
    {"tftp-server-address", 150, "IA"},
    {"loader-configfile", 209, "t"},
    {"loader-pathprefix", 210, "t"},
    {"loader-reboottime", 211, "L"},
    {"option-6rd", 212, "BB6Ia"},
    {"v4-access-domain", 213, "d"},
};

const struct dhcp_option_def *dhcp_option_by_name(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(dhcp_option_table); i++)
		if (!strcasecmp(dhcp_option_table[i].name, name))
			return &dhcp_option_table[i];
	return NULL;
}

const struct dhcp_option_def *dhcp_option_by_code(uint8_t code)
{
	for (size_t i = 0; i < ARRAY_SIZE(dhcp_option_table); i++)
		if (dhcp_option_table[i].code == code)
			return &dhcp_option_table[i];
	return NULL;
}
