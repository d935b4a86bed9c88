/* SPDX-License-Identifier: MPL-2.0 */
/* The DHCP option table: names, codes and value formats as ISC dhcpd knows them. */
#ifndef DHCP_OPTION_H
#define DHCP_OPTION_H

#include <stdint.h>

/*
 * Value formats, ISC-style format strings (see ISC's common/tables.c for the meaning):
 * "I" IPv4 address, "IA" array of addresses, "II" pair, "L" uint32, "l" int32, "S" uint16,
 * "B" uint8, "f" boolean, "t" text, "X" hex string or text, "D" domain-name list (RFC 1035
 * compressed, option 119), "d" domain name, "Rc" / custom ones for option 121, etc.
 */
struct dhcp_option_def {
	const char *name; /* "routers", "domain-name-servers", ... */
	uint8_t code;
	const char *format;
};

/* Standard options of the "dhcp" space; NULL when unknown. Static storage. */
const struct dhcp_option_def *dhcp_option_by_name(const char *name);
const struct dhcp_option_def *dhcp_option_by_code(uint8_t code);

#endif
