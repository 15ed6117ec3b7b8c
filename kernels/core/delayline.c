/* A delay line between two network interfaces: a link with latency, for kernels
 * without the `sch_netem` queueing discipline that `tc ... netem delay` needs.
 *
 *     delayline IN OUT DELAY_NS
 *
 * Every Ethernet frame that arrives on IN waits DELAY_NS nanoseconds, then leaves on
 * OUT; frames that arrive on OUT leave on IN at once. Put IN on a host's side of its
 * link and OUT on the switch's side, and the host's outgoing frames are delayed, as
 * `netem delay` on the host's interface would delay them: a message from one host to
 * another takes the delay once, a round trip twice.
 *
 * Frames are read and written whole through packet sockets with virtio-net headers, so
 * large TCP segments (GSO) and checksums left to the hardware pass through unchanged.
 * The delay holds frames in order (a constant delay never reorders); a frame that
 * finds the line full (SLOTS frames in flight) is dropped, as a full queue drops. The
 * program prints "ready" once both ports are open, and stops on SIGTERM or SIGINT, or
 * when its parent exits.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/virtio_net.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define SLOTS 512
#define FRAME (sizeof(struct virtio_net_hdr) + 65536 + 256)
/* Within this many nanoseconds of a frame's time, spin instead of sleeping: a sleep
 * wakes tens of microseconds late, which would swamp a 50 us delay. */
#define SPIN_NS 30000

static volatile sig_atomic_t stopping;

static void on_signal(int signal_number) {
    (void)signal_number;
    stopping = 1;
}

static int64_t now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

static int open_port(const char *name) {
    /* Protocol 0 at first: the socket sees nothing until it is bound to its interface. */
    int fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK, 0);
    int on = 1, size = 8 << 20;
    struct sockaddr_ll at;
    if (fd < 0) {
        perror("delayline: packet socket");
        exit(2);
    }
    if (setsockopt(fd, SOL_PACKET, PACKET_VNET_HDR, &on, sizeof on) < 0 ||
        setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &on, sizeof on) < 0) {
        perror("delayline: packet socket options");
        exit(2);
    }
    setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size);
    setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof size);
    memset(&at, 0, sizeof at);
    at.sll_family = AF_PACKET;
    at.sll_protocol = htons(ETH_P_ALL);
    at.sll_ifindex = (int)if_nametoindex(name);
    if (at.sll_ifindex == 0) {
        fprintf(stderr, "delayline: no interface %s\n", name);
        exit(2);
    }
    if (bind(fd, (struct sockaddr *)&at, sizeof at) < 0) {
        perror("delayline: bind");
        exit(2);
    }
    return fd;
}

/* Pass every frame waiting on `from` straight to `to`. */
static void pass_now(int from, int to, unsigned char *buffer) {
    for (;;) {
        ssize_t length = recv(from, buffer, FRAME, MSG_TRUNC);
        if (length < 0)
            return;
        if ((size_t)length <= FRAME)
            send(to, buffer, (size_t)length, 0);
    }
}

int main(int argc, char **argv) {
    static int64_t due[SLOTS];
    static ssize_t length[SLOTS];
    static unsigned char scratch[FRAME];
    unsigned char *line;
    size_t head = 0, count = 0;
    int64_t delay;
    int in, out;

    if (argc != 4 || (delay = atoll(argv[3])) < 0) {
        fprintf(stderr, "usage: delayline IN OUT DELAY_NS\n");
        return 2;
    }
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    prctl(PR_SET_TIMERSLACK, 1UL);
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);
    line = malloc(SLOTS * FRAME);
    if (line == NULL) {
        fprintf(stderr, "delayline: out of memory\n");
        return 2;
    }
    in = open_port(argv[1]);
    out = open_port(argv[2]);
    printf("ready\n");
    fflush(stdout);

    while (!stopping) {
        struct pollfd ports[2] = {{in, POLLIN, 0}, {out, POLLIN, 0}};
        struct timespec wait, *timeout = NULL;
        int64_t now = now_ns();
        while (count > 0 && due[head] <= now) {
            send(out, line + head * FRAME, (size_t)length[head], 0);
            head = (head + 1) % SLOTS;
            count--;
        }
        if (count > 0) {
            int64_t left = due[head] - now;
            left = left < SPIN_NS ? 0 : left - SPIN_NS;
            wait.tv_sec = left / 1000000000;
            wait.tv_nsec = left % 1000000000;
            timeout = &wait;
        }
        if (ppoll(ports, 2, timeout, NULL) < 0) {
            if (errno == EINTR)
                continue;
            perror("delayline: ppoll");
            return 1;
        }
        if (ports[1].revents & POLLIN)
            pass_now(out, in, scratch);
        while (ports[0].revents & POLLIN) {
            size_t slot = (head + count) % SLOTS;
            unsigned char *into = count < SLOTS ? line + slot * FRAME : scratch;
            ssize_t got = recv(in, into, FRAME, MSG_TRUNC);
            if (got < 0)
                break;
            if (count == SLOTS || (size_t)got > FRAME)
                continue; /* the line is full, or the frame too long: dropped */
            due[slot] = now_ns() + delay;
            length[slot] = got;
            count++;
        }
    }
    return 0;
}
