/*
 * fixtures.h - Ethernet frames captured from Linux for the wire tests
 *
 * Captured with an AF_PACKET socket on a veth pair between two network
 * namespaces (192.0.2.1/02:00:00:00:00:01 and 192.0.2.2/02:00:00:00:00:02),
 * transmit checksum offload off, so every checksum is as sent on a wire.
 */
#ifndef TAPIR_TESTS_WIRE_FIXTURES_H
#define TAPIR_TESTS_WIRE_FIXTURES_H

#include <stdint.h>

#define MAC_A { 0x02, 0x00, 0x00, 0x00, 0x00, 0x01 }
#define MAC_B { 0x02, 0x00, 0x00, 0x00, 0x00, 0x02 }
#define ADDR_A 0xc0000201u	/* 192.0.2.1 */
#define ADDR_B 0xc0000202u	/* 192.0.2.2 */

/* ARP request, broadcast: who has 192.0.2.2? tell 192.0.2.1 (02:00:00:00:00:01) */
extern const uint8_t arp_request_frame[42];
/* ARP reply: 192.0.2.2 is at 02:00:00:00:00:02, to 192.0.2.1 */
extern const uint8_t arp_reply_frame[42];
/* ping -c1 192.0.2.2: IPv4 id 0x8122 DF ttl 64, ICMP echo request id 0x2c74 seq 1, 56 data bytes */
extern const uint8_t ping_request_frame[98];
/* the kernel's echo reply to it: id 0x49ae, no DF, same ICMP id/seq/data */
extern const uint8_t ping_reply_frame[98];
/* ping -c1 -s 7: echo request id 0x2c75 seq 1 with 7 data bytes 00..06 (odd ICMP length 15); 49 bytes, so on a real wire it is padded to 60 */
extern const uint8_t ping_odd_frame[49];
/* ping -c1 -R: IHL 15, options NOP + Record Route (len 39, ptr 8, first slot 192.0.2.1 already filled by the sender) */
extern const uint8_t ping_rr_frame[138];
/* its reply: Record Route (len 39, ptr 16: 192.0.2.1, 192.0.2.2, 192.0.2.2) then one EOL */
extern const uint8_t ping_rr_reply_frame[138];
/* ping -c1 -T tsonly: Timestamp option (len 40, ptr 9, oflw/flg 0, one timestamp filled) */
extern const uint8_t ping_ts_frame[138];
/* socat UDP 192.0.2.1:40000 -> 192.0.2.2:7777, "hello, tapir\n" (13 bytes, odd), checksum 0x87c9 */
extern const uint8_t udp_frame[55];

#endif /* TAPIR_TESTS_WIRE_FIXTURES_H */
