//go:build !noasm

#include "textflag.h"

// SgemvBiasReLU's kernel, NEON: four rows of A at a time against eight elements of x per trip, two
// accumulators per row so consecutive FMLAs on one row do not wait on each other. The row sums meet
// at the end in FADDP (pairwise add), which leaves the four results in one register in row order.
//
// WORD lines (no Go mnemonic): FADD and FADDP (vector). Encodings from llvm-mc -triple=aarch64
// -show-encoding, each checked back with llvm-mc --disassemble.

// func gemv4_neon(m4, k int, a *float32, lda int, x, y *float32)
TEXT ·gemv4_neon(SB), NOSPLIT, $0-48
	MOVD m4+0(FP), R0
	MOVD k+8(FP), R1
	MOVD a+16(FP), R2
	MOVD lda+24(FP), R3
	MOVD x+32(FP), R4
	MOVD y+40(FP), R5
	LSL  $2, R3, R3   // row stride, bytes
	LSL  $2, R3, R12  // four rows, bytes
	LSR  $2, R0, R0   // row groups
	LSR  $3, R1, R1   // trips per row group
	CBZ  R0, done

rows:
	MOVD R2, R6
	ADD  R3, R6, R7
	ADD  R3, R7, R8
	ADD  R3, R8, R9
	MOVD R4, R10
	MOVD R1, R11
	VEOR V16.B16, V16.B16, V16.B16
	VEOR V17.B16, V17.B16, V17.B16
	VEOR V18.B16, V18.B16, V18.B16
	VEOR V19.B16, V19.B16, V19.B16
	VEOR V20.B16, V20.B16, V20.B16
	VEOR V21.B16, V21.B16, V21.B16
	VEOR V22.B16, V22.B16, V22.B16
	VEOR V23.B16, V23.B16, V23.B16
	CBZ  R11, sums

cols:
	VLD1.P 32(R10), [V0.S4, V1.S4]
	VLD1.P 32(R6), [V2.S4, V3.S4]
	VLD1.P 32(R7), [V4.S4, V5.S4]
	VLD1.P 32(R8), [V6.S4, V7.S4]
	VLD1.P 32(R9), [V8.S4, V9.S4]
	VFMLA  V0.S4, V2.S4, V16.S4
	VFMLA  V1.S4, V3.S4, V20.S4
	VFMLA  V0.S4, V4.S4, V17.S4
	VFMLA  V1.S4, V5.S4, V21.S4
	VFMLA  V0.S4, V6.S4, V18.S4
	VFMLA  V1.S4, V7.S4, V22.S4
	VFMLA  V0.S4, V8.S4, V19.S4
	VFMLA  V1.S4, V9.S4, V23.S4
	SUBS   $1, R11, R11
	BNE    cols

sums:
	WORD $0x4e34d610 // fadd v16.4s, v16.4s, v20.4s
	WORD $0x4e35d631 // fadd v17.4s, v17.4s, v21.4s
	WORD $0x4e36d652 // fadd v18.4s, v18.4s, v22.4s
	WORD $0x4e37d673 // fadd v19.4s, v19.4s, v23.4s
	WORD $0x6e31d610 // faddp v16.4s, v16.4s, v17.4s
	WORD $0x6e33d652 // faddp v18.4s, v18.4s, v19.4s
	WORD $0x6e32d610 // faddp v16.4s, v16.4s, v18.4s
	VST1.P [V16.S4], 16(R5)
	ADD    R12, R2, R2
	SUBS   $1, R0, R0
	BNE    rows

done:
	RET
