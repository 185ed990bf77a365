/*
 * The Orchestrator's test guest: a multiboot kernel that rewrites a working set of `mib` MiB at `rate` MiB/s and
 * checks, before each rewrite, that every page still holds the pass that last wrote it. A live migration that loses a
 * dirty page shows up as an integrity error. Its status block sits at a fixed guest-physical address (STATUS_ADDR) and
 * is read over QMP: human-monitor-command "xp /18wx 0x200000".
 *
 * Command line (-append): "mib=N rate=M" (rate 0 = as fast as it can). A line "rate=M" on COM1 changes the rate live.
 * With "disk=K" (KiB, 0 = off) it also rewrites the first K KiB of the primary IDE master (ATA PIO, LBA28): after each
 * memory chunk "dsec=S" sectors (default 4), each read back first and checked to hold the disk pass that last wrote it,
 * then stamped with the current one. A disk migration that loses a write shows up as a disk integrity error.
 * Time comes from the ACPI PM timer (3.579545 MHz, found through the PIIX4 PM function's PMBASE); the PIT's interrupt
 * ends each `hlt` between bursts, so an idle guest costs the host almost nothing.
 */
typedef unsigned int u32;
typedef unsigned short u16;
typedef unsigned char u8;

#define STATUS_ADDR 0x00200000u
#define WORKSET_ADDR 0x00400000u
#define PAGE 4096u
#define MAGIC 0x51E57A7Eu
#define PAGE_MAGIC 0xC0FFEE00u
#define CHUNK_PAGES 16u
#define PM_HZ_PER_MS 3580u

/* The status block: 19 words, read by the tests. */
struct status {
    u32 magic;          /* 0: MAGIC once running */
    u32 uptime_ms;      /* 1: guest time (PM timer) */
    u32 pass;           /* 2: the pass being written (1 = first) */
    u32 pages_dirtied;  /* 3: pages written since boot (wraps) */
    u32 errors;         /* 4: pages found not holding the pass that last wrote them */
    u32 mib;            /* 5: working set */
    u32 rate;           /* 6: MiB/s, 0 = flat out */
    u32 pages_checked;  /* 7: pages verified since boot (wraps) */
    u32 first_error;    /* 8: page index of the first error, 0xFFFFFFFF when none */
    u32 pmbase;         /* 9: ACPI PM I/O base, 0 when not found */
    u32 irqs;           /* 10: timer interrupts seen */
    u32 faults;         /* 11: CPU exceptions (the guest halts on one) */
    u32 disk_pass;      /* 12: the disk pass being written (0: no disk) */
    u32 disk_written;   /* 13: sectors written since boot (wraps) */
    u32 disk_errors;    /* 14: sectors found not holding the disk pass that last wrote them */
    u32 disk_first_error; /* 15: LBA of the first disk error, 0xFFFFFFFF when none */
    u32 disk_sectors;   /* 16: sectors in the rewritten region */
    u32 disk_io_errors; /* 17: ATA commands that failed (ERR, DF or a timeout) */
    u32 disk_io_last;   /* 18: the last that failed: bit 16 a timeout, bits 8-15 the command, 0-7 the status register */
};

volatile u32 irq_count;
volatile u32 fault_count;
extern void irq_master(void);
extern void irq_slave(void);
extern void cpu_fault(void);

static inline void outb(u16 port, u8 v) { __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port)); }
static inline u8 inb(u16 port) { u8 v; __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port)); return v; }
static inline void outl(u16 port, u32 v) { __asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port)); }
static inline u32 inl(u16 port) { u32 v; __asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port)); return v; }

static volatile struct status *const st = (volatile struct status *)STATUS_ADDR;

/* ---- serial (COM1) ---- */
static void serial_init(void) {
    outb(0x3F9, 0x00); outb(0x3FB, 0x80); outb(0x3F8, 0x01); outb(0x3F9, 0x00);
    outb(0x3FB, 0x03); outb(0x3FA, 0xC7); outb(0x3FC, 0x03);
}
static void putc_serial(char c) { while (!(inb(0x3FD) & 0x20)) {} outb(0x3F8, (u8)c); }
static void puts_serial(const char *s) { while (*s) putc_serial(*s++); }
static void putu_serial(u32 v) {
    char b[11]; int i = 10; b[i] = 0;
    do { b[--i] = (char)('0' + v % 10); v /= 10; } while (v);
    puts_serial(b + i);
}

/* ---- command line ---- */
static int parse_uint(const char *s, const char *key, u32 *out) {
    for (const char *w = s; *w; w++) {
        if (w != s && w[-1] != ' ') continue;
        const char *p = w, *k = key;
        while (*k && *p == *k) { p++; k++; }
        if (*k || *p < '0' || *p > '9') continue;
        u32 v = 0;
        while (*p >= '0' && *p <= '9') v = v * 10 + (u32)(*p++ - '0');
        *out = v;
        return 1;
    }
    return 0;
}

/* ---- interrupts: IDT, PIC, PIT at 1 kHz ---- */
struct idt_entry { u16 lo; u16 sel; u8 zero; u8 flags; u16 hi; } __attribute__((packed));
static struct idt_entry idt[48];
static struct { u16 limit; u32 base; } __attribute__((packed)) idtr;

static void set_gate(int n, void (*h)(void)) {
    u32 a = (u32)h;
    idt[n].lo = (u16)a; idt[n].hi = (u16)(a >> 16); idt[n].sel = 0x08; idt[n].zero = 0; idt[n].flags = 0x8E;
}

static void interrupts_init(void) {
    for (int i = 0; i < 32; i++) set_gate(i, cpu_fault);
    for (int i = 32; i < 40; i++) set_gate(i, irq_master);
    for (int i = 40; i < 48; i++) set_gate(i, irq_slave);
    idtr.limit = sizeof(idt) - 1; idtr.base = (u32)idt;
    __asm__ volatile("lidt %0" : : "m"(idtr));
    /* PICs remapped to 0x20/0x28; only IRQ0 (PIT) unmasked. */
    outb(0x20, 0x11); outb(0xA0, 0x11); outb(0x21, 0x20); outb(0xA1, 0x28);
    outb(0x21, 0x04); outb(0xA1, 0x02); outb(0x21, 0x01); outb(0xA1, 0x01);
    outb(0x21, 0xFE); outb(0xA1, 0xFF);
    u32 divisor = 1193182u / 1000u;
    outb(0x43, 0x34); outb(0x40, (u8)divisor); outb(0x40, (u8)(divisor >> 8));
    __asm__ volatile("sti");
}

/* ---- time: ACPI PM timer, 24 bits, folded into milliseconds ---- */
static u16 pm_port;
static u32 pm_last, pm_frac, now_ms;

static u32 pci_read(u32 bus, u32 dev, u32 fn, u32 reg) {
    outl(0xCF8, 0x80000000u | (bus << 16) | (dev << 11) | (fn << 8) | (reg & 0xFC));
    return inl(0xCFC);
}

static void time_init(void) {
    /* PIIX4 PM (00:01.3) on QEMU's pc machine: PMBASE at 0x40; ICH9 LPC (00:1f.0) on q35: PMBASE at 0x40 too. */
    u32 base = 0;
    u32 id = pci_read(0, 1, 3, 0);
    if (id == 0x71138086u) base = pci_read(0, 1, 3, 0x40) & 0xFFC0u;
    else if ((pci_read(0, 31, 0, 0) & 0xFFFFu) == 0x8086u) base = pci_read(0, 31, 0, 0x40) & 0xFF80u;
    st->pmbase = base;
    pm_port = base ? (u16)(base + 8) : 0;
    if (pm_port) pm_last = inl(pm_port) & 0xFFFFFFu;
}

/* Guest milliseconds since boot. Without a PM timer, one PIT tick (1 ms) is one millisecond. */
static u32 tick(void) {
    if (!pm_port) { now_ms = irq_count; return now_ms; }
    u32 t = inl(pm_port) & 0xFFFFFFu;
    pm_frac += (t - pm_last) & 0xFFFFFFu;
    pm_last = t;
    now_ms += pm_frac / PM_HZ_PER_MS;
    pm_frac %= PM_HZ_PER_MS;
    return now_ms;
}

/* ---- serial commands: "rate=N" ---- */
static char line[32];
static u32 line_len;
static u32 rate;

static void poll_serial(void) {
    while (inb(0x3FD) & 0x01) {
        char c = (char)inb(0x3F8);
        if (c == '\n' || c == '\r') {
            line[line_len] = 0;
            u32 v;
            if (parse_uint(line, "rate=", &v)) { rate = v; st->rate = v; puts_serial("rate="); putu_serial(v); puts_serial("\n"); }
            line_len = 0;
        } else if (line_len < sizeof(line) - 1) {
            line[line_len++] = c;
        }
    }
}

/* ---- the disk: ATA PIO on the primary channel (0x1F0-0x1F7), master, LBA28, interrupts off (nIEN) ---- */
#define DISK_MAGIC 0xD15C0000u
static inline void outw(u16 port, u16 v) { __asm__ volatile("outw %0, %1" : : "a"(v), "Nd"(port)); }
static inline u16 inw(u16 port) { u16 v; __asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(port)); return v; }
static u32 sector_buf[128];

/*
 * Waits for BSY to clear (and DRQ to be set when asked); 0 on success. On ERR or DF, or after 30 s of guest time (the PM
 * timer stands still while the VM is paused, so a migration's downtime does not count, and a host under load slows the
 * spin, not the clock), -1 with the cause in word 18.
 */
static int ata_wait(int drq, u8 command) {
    u32 start = tick();
    for (u32 spin = 1;; spin++) {
        u8 s = inb(0x1F7);
        if (!(s & 0x80)) {
            if (s & 0x21) { st->disk_io_last = ((u32)command << 8) | s; return -1; }       /* ERR or DF */
            if (!drq || (s & 0x08)) return 0;
        }
        if ((spin & 1023) == 0 && tick() - start > 30000) { st->disk_io_last = 0x10000u | ((u32)command << 8) | s; return -1; }
    }
}

static int ata_command(u32 lba, u8 command) {
    if (ata_wait(0, command)) return -1;
    outb(0x1F6, (u8)(0xE0 | ((lba >> 24) & 0x0F)));
    outb(0x1F2, 1);
    outb(0x1F3, (u8)lba); outb(0x1F4, (u8)(lba >> 8)); outb(0x1F5, (u8)(lba >> 16));
    outb(0x1F7, command);
    return ata_wait(1, command);
}

static int disk_read(u32 lba) {
    if (ata_command(lba, 0x20)) return -1;
    for (u32 i = 0; i < 128; i++) { u32 lo = inw(0x1F0); sector_buf[i] = lo | ((u32)inw(0x1F0) << 16); }
    return 0;
}

static int disk_write(u32 lba) {
    if (ata_command(lba, 0x30)) return -1;
    for (u32 i = 0; i < 128; i++) { outw(0x1F0, (u16)sector_buf[i]); outw(0x1F0, (u16)(sector_buf[i] >> 16)); }
    return ata_wait(0, 0x30);
}

/* Every word of a sector is defined by its LBA and the disk pass that wrote it. */
static u32 sector_word(u32 lba, u32 pass, u32 i) {
    return i == 0 ? DISK_MAGIC ^ lba : i == 1 ? pass : (lba * 2654435761u) ^ (pass * 40503u) ^ i;
}

static u32 disk_next, disk_pass;

/* One sector of the region: checked against the pass that last wrote it (none before pass 2), then rewritten. */
static void disk_step(void) {
    u32 lba = disk_next;
    if (disk_pass > 1) {
        int ok = disk_read(lba) == 0;
        if (!ok) st->disk_io_errors++;
        for (u32 i = 0; ok && i < 128; i++) ok = sector_buf[i] == sector_word(lba, disk_pass - 1, i);
        if (!ok) {
            if (st->disk_errors == 0) st->disk_first_error = lba;
            st->disk_errors++;
        }
    }
    for (u32 i = 0; i < 128; i++) sector_buf[i] = sector_word(lba, disk_pass, i);
    if (disk_write(lba)) st->disk_io_errors++;
    st->disk_written++;
    if (++disk_next == st->disk_sectors) { disk_next = 0; disk_pass++; st->disk_pass = disk_pass; }
}

/* ---- the working set ---- */
/* Every page also carries the text "SECRET-GUEST-MEM" (words 2-5, little-endian): a secret the tests look for in a
 * recording of the migration stream, which it must not show when the stream is encrypted. */
static void write_page(u32 i, u32 pass) {
    volatile u32 *p = (volatile u32 *)(WORKSET_ADDR + i * PAGE);
    p[0] = PAGE_MAGIC ^ i;
    p[1] = pass;
    p[2] = 0x52434553u; p[3] = 0x472D5445u; p[4] = 0x54534555u; p[5] = 0x4D454D2Du;
    p[PAGE / 4 / 2] = pass ^ i;
    p[PAGE / 4 - 1] = pass;
}

static int page_holds(u32 i, u32 pass) {
    volatile u32 *p = (volatile u32 *)(WORKSET_ADDR + i * PAGE);
    return p[0] == (PAGE_MAGIC ^ i) && p[1] == pass && p[PAGE / 4 / 2] == (pass ^ i) && p[PAGE / 4 - 1] == pass;
}

void guest_main(u32 magic, u32 *mbi) {
    serial_init();
    const char *cmdline = "";
    u32 mem_upper_kib = 0;
    if (magic == 0x2BADB002u) {
        if (mbi[0] & 0x4) cmdline = (const char *)mbi[4];
        if (mbi[0] & 0x1) mem_upper_kib = mbi[2];
    }
    u32 mib = 8;
    rate = 64;
    parse_uint(cmdline, "mib=", &mib);
    parse_uint(cmdline, "rate=", &rate);
    u32 disk_kib = 0, dsec = 4;
    parse_uint(cmdline, "disk=", &disk_kib);
    parse_uint(cmdline, "dsec=", &dsec);
    /* The working set starts at 4 MiB and must end below the top of RAM. */
    u32 top_mib = (mem_upper_kib + 1024) / 1024;
    if (top_mib > 5 && mib > top_mib - 5) mib = top_mib - 5;
    if (mib == 0) mib = 1;

    st->magic = 0;
    st->uptime_ms = 0; st->pass = 0; st->pages_dirtied = 0; st->errors = 0; st->mib = mib; st->rate = rate;
    st->pages_checked = 0; st->first_error = 0xFFFFFFFFu; st->irqs = 0; st->faults = 0;
    st->disk_written = 0; st->disk_errors = 0; st->disk_first_error = 0xFFFFFFFFu; st->disk_io_errors = 0;
    st->disk_io_last = 0;
    st->disk_sectors = disk_kib * 2u;
    disk_next = 0; disk_pass = disk_kib ? 1 : 0; st->disk_pass = disk_pass;
    if (disk_kib) outb(0x3F6, 0x02);    /* nIEN: the drive raises no interrupt, the guest polls */
    interrupts_init();
    time_init();
    st->magic = MAGIC;
    puts_serial("guest: mib="); putu_serial(mib); puts_serial(" rate="); putu_serial(rate);
    puts_serial(" pmbase="); putu_serial(st->pmbase); puts_serial(" disk="); putu_serial(disk_kib); puts_serial("\n");

    u32 pages = mib * 256u;
    u32 credit = 0;              /* pages x 1000 the rate allows now */
    u32 last = tick();
    for (u32 pass = 1;; pass++) {
        st->pass = pass;
        for (u32 i = 0; i < pages; i += CHUNK_PAGES) {
            u32 n = pages - i < CHUNK_PAGES ? pages - i : CHUNK_PAGES;
            while (rate != 0) {
                u32 now = tick();
                u32 elapsed = now - last;
                last = now;
                if (elapsed > 50) elapsed = 50;                 /* no burst after a pause */
                credit += elapsed * rate * 256u;                /* pages/ms x 1000 */
                if (credit > 50u * rate * 256u + n * 1000u) credit = 50u * rate * 256u + n * 1000u;
                st->uptime_ms = now; st->irqs = irq_count; st->faults = fault_count;
                poll_serial();
                if (credit >= n * 1000u) { credit -= n * 1000u; break; }
                __asm__ volatile("hlt");
            }
            for (u32 k = i; k < i + n; k++) {
                if (pass > 1) {
                    if (!page_holds(k, pass - 1)) {
                        if (st->errors == 0) st->first_error = k;
                        st->errors++;
                    }
                    st->pages_checked++;
                }
                write_page(k, pass);
                st->pages_dirtied++;
            }
            for (u32 d = 0; d < dsec && st->disk_sectors; d++) disk_step();
            if (rate == 0) { st->uptime_ms = tick(); poll_serial(); }
        }
        if ((pass & 63) == 0) {
            puts_serial("pass "); putu_serial(pass); puts_serial(" errors "); putu_serial(st->errors); puts_serial("\n");
        }
    }
}
