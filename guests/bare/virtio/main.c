/*
 * virtio: drives the virtio-mmio slots of QEMU's `virt` machine the way
 * Linux's virtio_mmio.c / virtio_blk.c / virtio-rng.c do, and waits for each
 * completion through the PLIC (M-mode context 0, MEIP) with WFI.
 *
 * Needs modern virtio-mmio (QEMU: -global virtio-mmio.force-legacy=false),
 * a virtio-blk device with serial "lockstep-disk" on a 64-sector disk whose
 * byte i is (i * 7 + 3) & 0xff, a virtio-rng device and a virtio-net device
 * (which transmits one ARP request).  Prints what it
 * sees; output is identical on QEMU and Lockstep (used lengths of failed
 * requests are not printed: QEMU reports the whole buffer there).
 */
#include "platform.h"

#define PLIC_BASE        0x0C000000UL
#define PLIC_PRIORITY(s) (PLIC_BASE + 4UL * (s))
#define PLIC_ENABLE0     (PLIC_BASE + 0x2000UL)
#define PLIC_THRESHOLD0  (PLIC_BASE + 0x200000UL)
#define PLIC_CLAIM0      (PLIC_BASE + 0x200004UL)

#define VIRTIO_BASE      0x10001000UL
#define VIRTIO_STRIDE    0x1000UL
#define VIRTIO_SLOTS     8

enum {
    MAGIC = 0x000, VERSION = 0x004, DEVICE_ID = 0x008, VENDOR_ID = 0x00C,
    DEVICE_FEATURES = 0x010, DEVICE_FEATURES_SEL = 0x014,
    DRIVER_FEATURES = 0x020, DRIVER_FEATURES_SEL = 0x024,
    QUEUE_SEL = 0x030, QUEUE_NUM_MAX = 0x034, QUEUE_NUM = 0x038,
    QUEUE_READY = 0x044, QUEUE_NOTIFY = 0x050,
    INTERRUPT_STATUS = 0x060, INTERRUPT_ACK = 0x064, STATUS = 0x070,
    QUEUE_DESC_LOW = 0x080, QUEUE_DESC_HIGH = 0x084,
    QUEUE_AVAIL_LOW = 0x090, QUEUE_AVAIL_HIGH = 0x094,
    QUEUE_USED_LOW = 0x0A0, QUEUE_USED_HIGH = 0x0A4,
    CONFIG = 0x100,
};

#define S_ACK 1
#define S_DRIVER 2
#define S_DRIVER_OK 4
#define S_FEATURES_OK 8

#define F_VERSION_1   (1ULL << 32)
#define F_BLK_FLUSH   (1ULL << 9)
#define MIP_MEIP      (1UL << 11)

#define QSIZE 8
#define DESC_NEXT 1
#define DESC_WRITE 2

struct desc { uint64_t addr; uint32_t len; uint16_t flags, next; };
struct queue {
    struct desc desc[QSIZE] __attribute__((aligned(16)));
    struct { uint16_t flags, idx, ring[QSIZE], used_event; } avail __attribute__((aligned(4)));
    struct { uint16_t flags, idx; struct { uint32_t id, len; } ring[QSIZE]; uint16_t avail_event; } used
        __attribute__((aligned(4)));
    uint16_t last_used;
};

static struct queue blkq, rngq, netrxq, nettxq;
static struct { uint32_t type, reserved; uint64_t sector; } header;
static uint8_t buffer[1024] __attribute__((aligned(16)));
static volatile uint8_t status_byte;

static inline uint32_t rd(uint64_t a) { return *(volatile uint32_t *)a; }
static inline void wr(uint64_t a, uint32_t v) { *(volatile uint32_t *)a = v; }
static inline void fence(void) { __asm__ volatile ("fence rw, rw" ::: "memory"); }

static void say(const char *label, uint64_t value)
{
    print_str(label);
    print_udec(value);
    putchar('\n');
}

/* Linux order: reset, ACK, DRIVER, features, FEATURES_OK (read back). */
static int negotiate(uint64_t base, uint64_t wanted)
{
    wr(base + STATUS, 0);
    wr(base + STATUS, S_ACK);
    wr(base + STATUS, S_ACK | S_DRIVER);
    wr(base + DEVICE_FEATURES_SEL, 1);
    uint64_t features = (uint64_t)rd(base + DEVICE_FEATURES) << 32;
    wr(base + DEVICE_FEATURES_SEL, 0);
    features |= rd(base + DEVICE_FEATURES);
    say("  has VERSION_1: ", (features & F_VERSION_1) != 0);
    uint64_t accept = features & wanted;
    wr(base + DRIVER_FEATURES_SEL, 1);
    wr(base + DRIVER_FEATURES, (uint32_t)(accept >> 32));
    wr(base + DRIVER_FEATURES_SEL, 0);
    wr(base + DRIVER_FEATURES, (uint32_t)accept);
    wr(base + STATUS, rd(base + STATUS) | S_FEATURES_OK);
    uint32_t status = rd(base + STATUS);
    say("  status after FEATURES_OK: ", status);
    return (status & S_FEATURES_OK) != 0;
}

/* vm_setup_vq for queue `index`. */
static void setup_queue(uint64_t base, struct queue *q, uint32_t index)
{
    wr(base + QUEUE_SEL, index);
    say("  queue ready before setup: ", rd(base + QUEUE_READY));
    say("  queue max at least 8: ", rd(base + QUEUE_NUM_MAX) >= QSIZE);
    wr(base + QUEUE_NUM, QSIZE);
    uint64_t d = (uint64_t)&q->desc, a = (uint64_t)&q->avail, u = (uint64_t)&q->used;
    wr(base + QUEUE_DESC_LOW, (uint32_t)d);  wr(base + QUEUE_DESC_HIGH, (uint32_t)(d >> 32));
    wr(base + QUEUE_AVAIL_LOW, (uint32_t)a); wr(base + QUEUE_AVAIL_HIGH, (uint32_t)(a >> 32));
    wr(base + QUEUE_USED_LOW, (uint32_t)u);  wr(base + QUEUE_USED_HIGH, (uint32_t)(u >> 32));
    wr(base + QUEUE_READY, 1);
    say("  queue ready after setup: ", rd(base + QUEUE_READY));
}

static void start_plic_source(int source)
{
    wr(PLIC_PRIORITY(source), 1);
    wr(PLIC_ENABLE0 + 4 * (source / 32), 1u << (source % 32));
    wr(PLIC_THRESHOLD0, 0);
}

/* Sleeps until MEIP, then does what Linux's handlers do: claim, read and ack
 * InterruptStatus, complete.  Prints the claimed source and the status. */
static void wait_interrupt(uint64_t base)
{
    while (!(read_csr(mip) & MIP_MEIP))
        __asm__ volatile ("wfi");
    uint32_t source = rd(PLIC_CLAIM0);
    uint32_t isr = rd(base + INTERRUPT_STATUS);
    wr(base + INTERRUPT_ACK, isr);
    wr(PLIC_CLAIM0, source);
    print_str("  irq source ");
    print_udec(source);
    print_str(" isr ");
    print_udec(isr);
    print_str(" meip after ");
    print_udec((read_csr(mip) & MIP_MEIP) != 0);
    putchar('\n');
}

/* Makes chain [0..count) of queue `index` available, notifies, waits;
 * returns the used length. */
static uint32_t submit_to(uint64_t base, struct queue *q, uint32_t index, int count)
{
    for (int i = 0; i < count; i++) {
        q->desc[i].flags |= (i + 1 < count) ? DESC_NEXT : 0;
        q->desc[i].next = (uint16_t)(i + 1);
    }
    q->avail.ring[q->avail.idx % QSIZE] = 0;
    fence();
    q->avail.idx++;
    fence();
    wr(base + QUEUE_NOTIFY, index);
    wait_interrupt(base);
    fence();
    if (q->used.idx != (uint16_t)(q->last_used + 1))
        say("  unexpected used index ", q->used.idx);
    uint32_t id = q->used.ring[q->last_used % QSIZE].id;
    uint32_t len = q->used.ring[q->last_used % QSIZE].len;
    q->last_used++;
    if (id != 0)
        say("  unexpected used id ", id);
    return len;
}

static uint32_t submit(uint64_t base, struct queue *q, int count)
{
    return submit_to(base, q, 0, count);
}

static void set_desc(struct queue *q, int i, void *addr, uint32_t len, uint16_t flags)
{
    q->desc[i].addr = (uint64_t)addr;
    q->desc[i].len = len;
    q->desc[i].flags = flags;
}

/* header, optional data, status byte. */
static uint32_t blk_request(uint64_t base, uint32_t type, uint64_t sector, void *data, uint32_t len, int device_writes)
{
    header.type = type;
    header.sector = sector;
    status_byte = 0xEE;
    int n = 0;
    set_desc(&blkq, n++, &header, sizeof header, 0);
    if (len)
        set_desc(&blkq, n++, data, len, device_writes ? DESC_WRITE : 0);
    set_desc(&blkq, n++, (void *)&status_byte, 1, DESC_WRITE);
    return submit(base, &blkq, n);
}

static uint8_t disk_byte(uint64_t i) { return (uint8_t)(i * 7 + 3); }

static void block_device(int slot)
{
    uint64_t base = VIRTIO_BASE + VIRTIO_STRIDE * slot;
    print_str("virtio-blk in slot ");
    print_udec(slot);
    putchar('\n');
    if (!negotiate(base, F_VERSION_1 | F_BLK_FLUSH))
        return;
    say("  capacity: ", rd(base + CONFIG) | (uint64_t)rd(base + CONFIG + 4) << 32);
    setup_queue(base, &blkq, 0);
    start_plic_source(slot + 1);
    wr(base + STATUS, rd(base + STATUS) | S_DRIVER_OK);
    say("  status: ", rd(base + STATUS));

    uint32_t len = blk_request(base, 8, 0, buffer, 20, 1);    /* GET_ID */
    print_str("  id: ");
    for (int i = 0; i < 20 && buffer[i]; i++)
        putchar(buffer[i]);
    putchar('\n');
    say("  id status ", status_byte);
    say("  id used length ", len);

    len = blk_request(base, 0, 1, buffer, 1024, 1);           /* IN, sectors 1-2 */
    int good = 1;
    for (int i = 0; i < 1024; i++)
        good &= buffer[i] == disk_byte(512 + i);
    say("  read status ", status_byte);
    say("  read used length ", len);
    say("  read data matches: ", good);

    for (int i = 0; i < 512; i++)
        buffer[i] = (uint8_t)(255 - i);
    len = blk_request(base, 1, 5, buffer, 512, 0);            /* OUT, sector 5 */
    say("  write status ", status_byte);
    say("  write used length ", len);
    memset(buffer, 0, sizeof buffer);
    blk_request(base, 0, 5, buffer, 512, 1);
    good = 1;
    for (int i = 0; i < 512; i++)
        good &= buffer[i] == (uint8_t)(255 - i);
    say("  read back matches: ", good);

    len = blk_request(base, 4, 0, 0, 0, 0);                   /* FLUSH */
    say("  flush status ", status_byte);
    say("  flush used length ", len);

    blk_request(base, 100, 0, 0, 0, 0);                       /* unknown type */
    say("  unknown type status ", status_byte);

    blk_request(base, 0, 64, buffer, 512, 1);                 /* past the end */
    say("  read past end status ", status_byte);

    wr(base + STATUS, 0);
    say("  status after reset: ", rd(base + STATUS));
    say("  interrupt status after reset: ", rd(base + INTERRUPT_STATUS));
}

static void entropy_device(int slot)
{
    uint64_t base = VIRTIO_BASE + VIRTIO_STRIDE * slot;
    print_str("virtio-rng in slot ");
    print_udec(slot);
    putchar('\n');
    if (!negotiate(base, F_VERSION_1))
        return;
    setup_queue(base, &rngq, 0);
    start_plic_source(slot + 1);
    wr(base + STATUS, rd(base + STATUS) | S_DRIVER_OK);
    memset(buffer, 0, 16);
    set_desc(&rngq, 0, buffer, 16, DESC_WRITE);
    uint32_t len = submit(base, &rngq, 1);
    say("  got some bytes: ", len > 0 && len <= 16);
}

#define F_NET_MAC     (1ULL << 5)
#define F_NET_STATUS  (1ULL << 16)

static uint8_t frame[12 + 42] __attribute__((aligned(16)));

/* Transmits one broadcast ARP request (who has 10.0.2.2?).  No receive
 * buffers are posted, so nothing comes back. */
static void network_device(int slot)
{
    uint64_t base = VIRTIO_BASE + VIRTIO_STRIDE * slot;
    print_str("virtio-net in slot ");
    print_udec(slot);
    putchar('\n');
    if (!negotiate(base, F_VERSION_1 | F_NET_MAC | F_NET_STATUS))
        return;
    uint8_t mac[6];
    print_str("  mac");
    for (int i = 0; i < 6; i++) {
        mac[i] = *(volatile uint8_t *)(base + CONFIG + i);
        putchar(i ? ':' : ' ');
        print_hex_n(mac[i], 2);
    }
    putchar('\n');
    say("  link status: ", *(volatile uint16_t *)(base + CONFIG + 6));
    setup_queue(base, &netrxq, 0);
    setup_queue(base, &nettxq, 1);
    start_plic_source(slot + 1);
    wr(base + STATUS, rd(base + STATUS) | S_DRIVER_OK);

    static const uint8_t arp[28] = { 0, 1, 8, 0, 6, 4, 0, 1 };
    uint8_t *f = frame + 12;                      /* header stays zero */
    memset(f, 0xFF, 6);
    memcpy(f + 6, mac, 6);
    f[12] = 0x08; f[13] = 0x06;
    memcpy(f + 14, arp, 8);
    memcpy(f + 22, mac, 6);
    f[28] = 10; f[29] = 0; f[30] = 2; f[31] = 15;
    f[38] = 10; f[39] = 0; f[40] = 2; f[41] = 2;
    set_desc(&nettxq, 0, frame, sizeof frame, 0);
    say("  transmit used length ", submit_to(base, &nettxq, 1, 1));
}

int main(void)
{
    clear_csr(mstatus, MSTATUS_MIE);
    set_csr(mie, MIE_MEIE);
    int blk = -1, rng = -1, net = -1;
    for (int slot = 0; slot < VIRTIO_SLOTS; slot++) {
        uint64_t base = VIRTIO_BASE + VIRTIO_STRIDE * slot;
        uint32_t id = rd(base + DEVICE_ID);
        print_str("slot ");
        print_udec(slot);
        print_str(": magic ");
        print_hex_n(rd(base + MAGIC), 8);
        print_str(" version ");
        print_udec(rd(base + VERSION));
        print_str(" vendor ");
        print_hex_n(rd(base + VENDOR_ID), 8);
        print_str(" device ");
        print_udec(id);
        putchar('\n');
        if (id == 2) blk = slot;
        if (id == 4) rng = slot;
        if (id == 1) net = slot;
    }
    if (blk < 0 || rng < 0 || net < 0) {
        puts("virtio: missing devices");
        return 1;
    }
    block_device(blk);
    entropy_device(rng);
    network_device(net);
    puts("virtio: done");
    return 0;
}
