//go:build !noasm

#include "textflag.h"

// Max-pool 2×2, stride 2, NEON: one output row per call, four outputs per trip, n a multiple of 4 (the
// Go wrappers in pool_arm64.go run the rest). VLD2 de-interleaves a row pair into the four window
// corners, so the kernel is the reference's scalar rule applied lane-wise.
//
// WORD lines (no Go mnemonic): FCMGT, FCMEQ (register), BIC and XTN. Encodings from llvm-mc
// -triple=aarch64 -show-encoding, each checked back with llvm-mc --disassemble.

// func maxPoolRow_neon(dst *float32, idx *uint8, r0, r1 *float32, n int)
TEXT ·maxPoolRow_neon(SB), NOSPLIT, $0-40
	MOVD dst+0(FP), R0
	MOVD idx+8(FP), R1
	MOVD r0+16(FP), R2
	MOVD r1+24(FP), R3
	MOVD n+32(FP), R4
	MOVW $1, R9
	VDUP R9, V29.S4
	MOVW $2, R9
	VDUP R9, V30.S4
	MOVW $3, R9
	VDUP R9, V31.S4
	LSR  $2, R4, R4
	CBZ  R4, done

loop:
	// V0..V3: corners 0 (r0 even), 1 (r0 odd), 2 (r1 even), 3 (r1 odd) of four windows.
	VLD2.P 32(R2), [V0.S4, V1.S4]
	VLD2.P 32(R3), [V2.S4, V3.S4]
	VEOR   V4.B16, V4.B16, V4.B16 // where the maximum is, as int32 lanes

	// Corner k replaces the best so far when v > best, or when v is NaN and best is not: the first
	// maximum wins ties and the first NaN wins over numbers, exactly as maxPool2x2Ref.
	WORD $0x6ea0e425 // fcmgt v5.4s, v1.4s, v0.4s
	WORD $0x4e20e406 // fcmeq v6.4s, v0.4s, v0.4s
	WORD $0x4e21e427 // fcmeq v7.4s, v1.4s, v1.4s
	WORD $0x4e671cc6 // bic v6.16b, v6.16b, v7.16b
	VORR   V6.B16, V5.B16, V5.B16
	VBIT   V5.B16, V1.B16, V0.B16
	VBIT   V5.B16, V29.B16, V4.B16

	WORD $0x6ea0e445 // fcmgt v5.4s, v2.4s, v0.4s
	WORD $0x4e20e406 // fcmeq v6.4s, v0.4s, v0.4s
	WORD $0x4e22e447 // fcmeq v7.4s, v2.4s, v2.4s
	WORD $0x4e671cc6 // bic v6.16b, v6.16b, v7.16b
	VORR   V6.B16, V5.B16, V5.B16
	VBIT   V5.B16, V2.B16, V0.B16
	VBIT   V5.B16, V30.B16, V4.B16

	WORD $0x6ea0e465 // fcmgt v5.4s, v3.4s, v0.4s
	WORD $0x4e20e406 // fcmeq v6.4s, v0.4s, v0.4s
	WORD $0x4e23e467 // fcmeq v7.4s, v3.4s, v3.4s
	WORD $0x4e671cc6 // bic v6.16b, v6.16b, v7.16b
	VORR   V6.B16, V5.B16, V5.B16
	VBIT   V5.B16, V3.B16, V0.B16
	VBIT   V5.B16, V31.B16, V4.B16

	VST1.P [V0.S4], 16(R0)
	WORD $0x0e612884 // xtn v4.4h, v4.4s
	WORD $0x0e212884 // xtn v4.8b, v4.8h
	FMOVS  F4, (R1)
	ADD    $4, R1, R1
	SUBS   $1, R4, R4
	BNE    loop

done:
	RET

// func maxPoolBackRow_neon(d0, d1, dy *float32, idx *uint8, n int)
TEXT ·maxPoolBackRow_neon(SB), NOSPLIT, $0-40
	MOVD d0+0(FP), R0
	MOVD d1+8(FP), R1
	MOVD dy+16(FP), R2
	MOVD idx+24(FP), R3
	MOVD n+32(FP), R4
	VEOR V28.B16, V28.B16, V28.B16
	MOVW $1, R9
	VDUP R9, V29.S4
	MOVW $2, R9
	VDUP R9, V30.S4
	MOVW $3, R9
	VDUP R9, V31.S4
	LSR  $2, R4, R4
	CBZ  R4, done

loop:
	VLD1.P 16(R2), [V0.S4]
	FMOVS  (R3), F1
	ADD    $4, R3, R3
	VUXTL  V1.B8, V1.H8
	VUXTL  V1.H4, V1.S4

	// Corner k of each window gets dy where idx == k, zero elsewhere; VST2 interleaves the even and
	// odd columns back, so both input rows of the four windows are written in full.
	VCMEQ  V28.S4, V1.S4, V4.S4
	VCMEQ  V29.S4, V1.S4, V5.S4
	VCMEQ  V30.S4, V1.S4, V6.S4
	VCMEQ  V31.S4, V1.S4, V7.S4
	VAND   V0.B16, V4.B16, V4.B16
	VAND   V0.B16, V5.B16, V5.B16
	VAND   V0.B16, V6.B16, V6.B16
	VAND   V0.B16, V7.B16, V7.B16
	VST2.P [V4.S4, V5.S4], 32(R0)
	VST2.P [V6.S4, V7.S4], 32(R1)
	SUBS   $1, R4, R4
	BNE    loop

done:
	RET
