// semihost-exit CODE: ends QEMU with exit status CODE (a decimal number, 0-255) through
// Arm semihosting, from a user process of the guest. The arm64 test root's /sbin/init runs
// it as /usr/lib/verinit-test/semihost-exit with 3 for a pass and 5 for a failure: the
// statuses x86's isa-debug-exit gives, so that the harness has no case per arch.
//
// The call (Arm's "Semihosting for AArch32 and AArch64", SYS_EXIT): x0 = 0x18, x1 = the
// address of two 64-bit words {reason, subcode}; reason 0x20026 is
// ADP_Stopped_ApplicationExit and the subcode is the exit status; then `hlt #0xf000`.
// QEMU honours it from EL0 only with
//     -semihosting-config enable=on,target=native,userspace=on
// (scripts/qemu-boot --arch arm64 gives it). Without that, the hlt is an undefined
// instruction to the kernel: this process dies of SIGILL or SIGTRAP and its caller goes on.
// If the call returns at all, the program exits 1 through the exit syscall.
//
// Built by scripts/make-disk when it assembles the arm64 test root:
//     aarch64-linux-gnu-gcc -static -nostdlib -o semihost-exit semihost-exit.S
// No libc: the entry point reads argc and argv from the stack the kernel set up
// (sp: argc, sp+8: argv[0], sp+16: argv[1]).

    .text
    .global _start
_start:
    ldr     x0, [sp]                // argc
    mov     x2, #1                  // the status for a usage error
    cmp     x0, #2
    b.ne    exit
    ldr     x3, [sp, #16]           // argv[1]
    mov     x2, #0
    mov     x5, #10
digit:
    ldrb    w4, [x3], #1
    cbz     w4, exit                // end of the number
    sub     w4, w4, #'0'
    cmp     w4, #9
    b.hi    usage                   // not a decimal digit
    madd    x2, x2, x5, x4          // x2 = x2 * 10 + digit
    cmp     x2, #255
    b.hi    usage
    b       digit
usage:
    mov     x2, #1
exit:
    adr     x1, block
    mov     x6, #0x0026
    movk    x6, #0x2, lsl #16       // 0x20026: ADP_Stopped_ApplicationExit
    str     x6, [x1]
    str     x2, [x1, #8]            // the exit status
    mov     x0, #0x18               // SYS_EXIT
    hlt     #0xf000
    // Not ended: exit(1).
    mov     x0, #1
    mov     x8, #93                 // __NR_exit on arm64
    svc     #0

    .bss
    .balign 8
block:
    .skip   16
