/* Multiboot entry of the test guest: a header the loader finds, a stack, our own flat GDT, then C. */
    .set MB_MAGIC, 0x1BADB002
    .set MB_FLAGS, 0x00000003            /* page-aligned modules, memory info */
    .section .multiboot, "a"
    .align 4
    .long MB_MAGIC, MB_FLAGS, -(MB_MAGIC + MB_FLAGS)

    .section .text
    .globl _start
_start:
    cli
    mov $stack_top, %esp
    lgdt gdt_descriptor
    ljmp $0x08, $1f
1:  mov $0x10, %cx                         /* not %ax: %eax holds the loader's magic until it is pushed */
    mov %cx, %ds
    mov %cx, %es
    mov %cx, %ss
    mov %cx, %fs
    mov %cx, %gs
    push %ebx                              /* multiboot information */
    push %eax                              /* multiboot magic */
    call guest_main
2:  hlt
    jmp 2b

/* Interrupt stubs: a timer/PIC interrupt only has to be acknowledged (its job is to end a hlt). */
    .globl irq_master, irq_slave, cpu_fault
irq_master:
    push %eax
    mov $0x20, %al
    out %al, $0x20
    incl irq_count
    pop %eax
    iret
irq_slave:
    push %eax
    mov $0x20, %al
    out %al, $0xA0
    out %al, $0x20
    pop %eax
    iret
cpu_fault:
    cli
    incl fault_count
3:  hlt
    jmp 3b

    .section .data
    .align 8
gdt:
    .quad 0
    .quad 0x00CF9A000000FFFF                /* 0x08: code, flat 4 GiB */
    .quad 0x00CF92000000FFFF                /* 0x10: data, flat 4 GiB */
gdt_descriptor:
    .word gdt_descriptor - gdt - 1
    .long gdt

    .section .bss
    .align 16
    .skip 16384
stack_top:
    .section .note.GNU-stack, "", @progbits
