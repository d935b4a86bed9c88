/* SPDX-License-Identifier: MPL-2.0 */
/* Failover load balancing: the RFC 3074 hash and hash bucket assignments, as ISC uses them. */
#ifndef DHCP_FO_HASH_H
#define DHCP_FO_HASH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DHCP_FO_HBA_BYTES 32

/*
 * The RFC 3074 bucket of a client, as ISC's loadb_p_hash computes it: h starts as the key
 * length mod 256, then h = T[h ^ byte] for each byte from the last to the first. The key is
 * the whole client identifier (option 61, type byte included) when the client sent one, else
 * chaddr[0..hlen) without the htype (dhcp_fo_client_bucket does that choice).
 */
uint8_t dhcp_fo_hash(const uint8_t *key, size_t len);
uint8_t dhcp_fo_client_bucket(const uint8_t *client_id, size_t client_id_len,
			      const uint8_t *chaddr, size_t hlen);

/*
 * Whether bucket b is the primary's in hba: bit (b & 7) of byte b >> 3, least significant
 * first. Set means the primary serves the client (ISC; the draft says the opposite).
 */
bool dhcp_fo_hba_primary(const uint8_t hba[DHCP_FO_HBA_BYTES], uint8_t bucket);

/* "split N": buckets 0 .. N-1 are the primary's (N <= 256). */
void dhcp_fo_hba_split(uint8_t hba[DHCP_FO_HBA_BYTES], unsigned n);

#endif
