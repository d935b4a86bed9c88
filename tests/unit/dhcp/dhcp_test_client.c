/* SPDX-License-Identifier: MPL-2.0 */
/* Unit-test helper: DHCP requests as real clients build them (see dhcp_test_client.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "dhcp_test_client.h"

void tclient_init(struct tclient *c, uint8_t last)
{
	memset(c, 0, sizeof(*c));
	memcpy(c->mac, (uint8_t[]){0x02, 0, 0, 0, 0, last}, 6);
	c->xid = 0x1000 + last;
}

void tclient_u32be(uint8_t *b, uint32_t v)
{
	b[0] = (uint8_t)(v >> 24);
	b[1] = (uint8_t)(v >> 16);
	b[2] = (uint8_t)(v >> 8);
	b[3] = (uint8_t)v;
}

size_t tclient_request(const struct tclient *c, uint8_t type, uint32_t ciaddr, uint32_t giaddr,
                       uint8_t *buf, size_t cap, ...)
{
	static struct dhcp_out o;
	va_list ap;
	int code;
	int n;

	dhcp_out_init(&o);
	o.op = 1;
	o.htype = 1;
	o.hlen = 6;
	o.xid = c->xid;
	o.ciaddr = ciaddr;
	o.giaddr = giaddr;
	memcpy(o.chaddr, c->mac, 6);
	assert_int_equal(dhcp_out_add(&o, 53, &type, 1), 0);
	if (c->uid_len)
		assert_int_equal(dhcp_out_add(&o, 61, c->uid, c->uid_len), 0);
	va_start(ap, cap);
	while ((code = va_arg(ap, int)) != 0) {
		size_t len = va_arg(ap, size_t);
		const uint8_t *data = va_arg(ap, const uint8_t *);

		assert_int_equal(dhcp_out_add(&o, (uint8_t)code, data, len), 0);
	}
	va_end(ap);
	n = dhcp_out_encode(&o, buf, cap, DHCP_PACKET_MAX, NULL);
	assert_true(n > 0);
	return (size_t)n;
}

uint32_t tclient_opt_u32(const struct dhcp_packet *p, uint8_t code)
{
	size_t len;
	const uint8_t *v = dhcp_packet_opt(p, code, &len);

	assert_non_null(v);
	assert_int_equal(len, 4);
	return (uint32_t)v[0] << 24 | (uint32_t)v[1] << 16 | (uint32_t)v[2] << 8 | v[3];
}

int tserver_feed(struct tserver *t, const uint8_t *buf, size_t len, int64_t now)
{
	enum dhcp_drop why;

	if (!dhcp_server_handle(t->srv, buf, len, &t->rx, now, &t->tx))
		return -1;
	assert_int_equal(dhcp_packet_decode(&t->reply, t->tx.buf, t->tx.len, &why), 0);
	assert_int_equal(t->reply.op, 2);
	return t->reply.msg_type;
}

uint32_t tserver_dora(struct tserver *t, const struct tclient *c, int64_t now)
{
	uint8_t buf[DHCP_PACKET_MAX], sid[4], req[4];
	size_t len = tclient_request(c, DHCPDISCOVER, 0, 0, buf, sizeof(buf), 0);
	uint32_t offered;

	if (tserver_feed(t, buf, len, now) != DHCPOFFER)
		return 0;
	offered = t->reply.yiaddr;
	tclient_u32be(sid, tclient_opt_u32(&t->reply, 54));
	tclient_u32be(req, offered);
	len = tclient_request(c, DHCPREQUEST, 0, 0, buf, sizeof(buf), 54, (size_t)4, sid, 50,
	                      (size_t)4, req, 0);
	if (tserver_feed(t, buf, len, now) != DHCPACK)
		return 0;
	assert_int_equal(t->reply.yiaddr, offered);
	return offered;
}
