//go:build !noasm

#include "textflag.h"

// SGEMM micro-kernel, 8x12 tile, NEON.
//
// 24 of the 32 V registers hold the 8x12 tile of C (row i, columns 4j..4j+3 in V(8+3i+j)), two hold a
// column of the packed A panel (V0 = rows 0-3, V1 = rows 4-7) and three a row of the packed B panel
// (V2..V4 = columns 0-3, 4-7, 8-11). Each k step is then 2+3 loads for 24 FMLA by element: the ratio
// that keeps the FMA pipes busy on cores with two 128-bit FMA units while leaving V5..V7 free.
//
// Go's assembler has no FMLA (by element), so it is written as WORD lines. The encodings (FMLA by
// element, single precision, Q=1: 0 1 0 01111 1 0 L M Rm 0001 H 0 Rn Rd, lane = H:L) were produced with
// llvm-mc -triple=aarch64 -show-encoding and are checked back with go tool objdump; the table below
// names each one in the order KSTEP issues them.
//
//   $0x4f801048  fmla v8.4s, v2.4s, v0.s[0]
//   $0x4f801069  fmla v9.4s, v3.4s, v0.s[0]
//   $0x4f80108a  fmla v10.4s, v4.4s, v0.s[0]
//   $0x4fa0104b  fmla v11.4s, v2.4s, v0.s[1]
//   $0x4fa0106c  fmla v12.4s, v3.4s, v0.s[1]
//   $0x4fa0108d  fmla v13.4s, v4.4s, v0.s[1]
//   $0x4f80184e  fmla v14.4s, v2.4s, v0.s[2]
//   $0x4f80186f  fmla v15.4s, v3.4s, v0.s[2]
//   $0x4f801890  fmla v16.4s, v4.4s, v0.s[2]
//   $0x4fa01851  fmla v17.4s, v2.4s, v0.s[3]
//   $0x4fa01872  fmla v18.4s, v3.4s, v0.s[3]
//   $0x4fa01893  fmla v19.4s, v4.4s, v0.s[3]
//   $0x4f811054  fmla v20.4s, v2.4s, v1.s[0]
//   $0x4f811075  fmla v21.4s, v3.4s, v1.s[0]
//   $0x4f811096  fmla v22.4s, v4.4s, v1.s[0]
//   $0x4fa11057  fmla v23.4s, v2.4s, v1.s[1]
//   $0x4fa11078  fmla v24.4s, v3.4s, v1.s[1]
//   $0x4fa11099  fmla v25.4s, v4.4s, v1.s[1]
//   $0x4f81185a  fmla v26.4s, v2.4s, v1.s[2]
//   $0x4f81187b  fmla v27.4s, v3.4s, v1.s[2]
//   $0x4f81189c  fmla v28.4s, v4.4s, v1.s[2]
//   $0x4fa1185d  fmla v29.4s, v2.4s, v1.s[3]
//   $0x4fa1187e  fmla v30.4s, v3.4s, v1.s[3]
//   $0x4fa1189f  fmla v31.4s, v4.4s, v1.s[3]

// KSTEP consumes one k step: A column p (8 floats at R1) and B row p (12 floats at R2), both advanced.
#define KSTEP \
	VLD1.P 32(R1), [V0.S4, V1.S4]; \
	VLD1.P 48(R2), [V2.S4, V3.S4, V4.S4]; \
	WORD $0x4f801048; \
	WORD $0x4f801069; \
	WORD $0x4f80108a; \
	WORD $0x4fa0104b; \
	WORD $0x4fa0106c; \
	WORD $0x4fa0108d; \
	WORD $0x4f80184e; \
	WORD $0x4f80186f; \
	WORD $0x4f801890; \
	WORD $0x4fa01851; \
	WORD $0x4fa01872; \
	WORD $0x4fa01893; \
	WORD $0x4f811054; \
	WORD $0x4f811075; \
	WORD $0x4f811096; \
	WORD $0x4fa11057; \
	WORD $0x4fa11078; \
	WORD $0x4fa11099; \
	WORD $0x4f81185a; \
	WORD $0x4f81187b; \
	WORD $0x4f81189c; \
	WORD $0x4fa1185d; \
	WORD $0x4fa1187e; \
	WORD $0x4fa1189f

// Starting the accumulators from C instead of zero saves a vector add per register at the end (Go's
// assembler has no FADD by vector, so each would be another WORD) and rounds the same as c += a·b done
// step by step, which is what the reference does.

// func sgemmKernel_8x12_neon(k int, a, b, c *float32, ldc int)
TEXT ·sgemmKernel_8x12_neon(SB), NOSPLIT, $0-40
	MOVD k+0(FP), R0
	MOVD a+8(FP), R1
	MOVD b+16(FP), R2
	MOVD c+24(FP), R3
	MOVD ldc+32(FP), R4
	LSL  $2, R4, R4
	MOVD R3, R6

	VLD1 (R6), [V8.S4, V9.S4, V10.S4]
	ADD  R4, R6, R6
	VLD1 (R6), [V11.S4, V12.S4, V13.S4]
	ADD  R4, R6, R6
	VLD1 (R6), [V14.S4, V15.S4, V16.S4]
	ADD  R4, R6, R6
	VLD1 (R6), [V17.S4, V18.S4, V19.S4]
	ADD  R4, R6, R6
	VLD1 (R6), [V20.S4, V21.S4, V22.S4]
	ADD  R4, R6, R6
	VLD1 (R6), [V23.S4, V24.S4, V25.S4]
	ADD  R4, R6, R6
	VLD1 (R6), [V26.S4, V27.S4, V28.S4]
	ADD  R4, R6, R6
	VLD1 (R6), [V29.S4, V30.S4, V31.S4]

	// Four k steps per trip keep the loop branch off the critical path; the rest go one at a time.
	LSR  $2, R0, R5
	AND  $3, R0, R0
	CBZ  R5, tail

loop4:
	KSTEP
	KSTEP
	KSTEP
	KSTEP
	SUBS $1, R5, R5
	BNE  loop4

tail:
	CBZ R0, store

loop1:
	KSTEP
	SUBS $1, R0, R0
	BNE  loop1

store:
	VST1 [V8.S4, V9.S4, V10.S4], (R3)
	ADD  R4, R3, R3
	VST1 [V11.S4, V12.S4, V13.S4], (R3)
	ADD  R4, R3, R3
	VST1 [V14.S4, V15.S4, V16.S4], (R3)
	ADD  R4, R3, R3
	VST1 [V17.S4, V18.S4, V19.S4], (R3)
	ADD  R4, R3, R3
	VST1 [V20.S4, V21.S4, V22.S4], (R3)
	ADD  R4, R3, R3
	VST1 [V23.S4, V24.S4, V25.S4], (R3)
	ADD  R4, R3, R3
	VST1 [V26.S4, V27.S4, V28.S4], (R3)
	ADD  R4, R3, R3
	VST1 [V29.S4, V30.S4, V31.S4], (R3)
	RET

// sgemmKernelEx_8x12_neon is the same product with the driver's store modes folded into the one pass
// over C (flags: 1 = gemmLoadC, start from C instead of zero; 2 = gemmBias, add bias[i] to row i;
// 4 = gemmReLU, then v < 0 ? 0 : v, which keeps -0 and NaN as the reference does). The order of the
// sum is C + Σ a·b + bias, the same as the driver's emulation around sgemmKernel_8x12_neon.

// func sgemmKernelEx_8x12_neon(k int, a, b, c *float32, ldc int, bias *float32, flags int)
TEXT ·sgemmKernelEx_8x12_neon(SB), NOSPLIT, $0-56
	MOVD k+0(FP), R0
	MOVD a+8(FP), R1
	MOVD b+16(FP), R2
	MOVD c+24(FP), R3
	MOVD ldc+32(FP), R4
	MOVD bias+40(FP), R7
	MOVD flags+48(FP), R8
	LSL  $2, R4, R4
	MOVD R3, R6

	TBZ $0, R8, zero
	VLD1 (R6), [V8.S4, V9.S4, V10.S4]
	ADD  R4, R6, R6
	VLD1 (R6), [V11.S4, V12.S4, V13.S4]
	ADD  R4, R6, R6
	VLD1 (R6), [V14.S4, V15.S4, V16.S4]
	ADD  R4, R6, R6
	VLD1 (R6), [V17.S4, V18.S4, V19.S4]
	ADD  R4, R6, R6
	VLD1 (R6), [V20.S4, V21.S4, V22.S4]
	ADD  R4, R6, R6
	VLD1 (R6), [V23.S4, V24.S4, V25.S4]
	ADD  R4, R6, R6
	VLD1 (R6), [V26.S4, V27.S4, V28.S4]
	ADD  R4, R6, R6
	VLD1 (R6), [V29.S4, V30.S4, V31.S4]
	B    kloop

zero:
	VEOR V8.B16, V8.B16, V8.B16
	VEOR V9.B16, V9.B16, V9.B16
	VEOR V10.B16, V10.B16, V10.B16
	VEOR V11.B16, V11.B16, V11.B16
	VEOR V12.B16, V12.B16, V12.B16
	VEOR V13.B16, V13.B16, V13.B16
	VEOR V14.B16, V14.B16, V14.B16
	VEOR V15.B16, V15.B16, V15.B16
	VEOR V16.B16, V16.B16, V16.B16
	VEOR V17.B16, V17.B16, V17.B16
	VEOR V18.B16, V18.B16, V18.B16
	VEOR V19.B16, V19.B16, V19.B16
	VEOR V20.B16, V20.B16, V20.B16
	VEOR V21.B16, V21.B16, V21.B16
	VEOR V22.B16, V22.B16, V22.B16
	VEOR V23.B16, V23.B16, V23.B16
	VEOR V24.B16, V24.B16, V24.B16
	VEOR V25.B16, V25.B16, V25.B16
	VEOR V26.B16, V26.B16, V26.B16
	VEOR V27.B16, V27.B16, V27.B16
	VEOR V28.B16, V28.B16, V28.B16
	VEOR V29.B16, V29.B16, V29.B16
	VEOR V30.B16, V30.B16, V30.B16
	VEOR V31.B16, V31.B16, V31.B16

kloop:
	LSR  $2, R0, R5
	AND  $3, R0, R0
	CBZ  R5, tail

loop4:
	KSTEP
	KSTEP
	KSTEP
	KSTEP
	SUBS $1, R5, R5
	BNE  loop4

tail:
	CBZ R0, bias

loop1:
	KSTEP
	SUBS $1, R0, R0
	BNE  loop1

bias:
	TBZ $1, R8, relu
	VLD1R.P 4(R7), [V0.S4]
	WORD $0x4e20d508 // fadd v8.4s, v8.4s, v0.4s
	WORD $0x4e20d529 // fadd v9.4s, v9.4s, v0.4s
	WORD $0x4e20d54a // fadd v10.4s, v10.4s, v0.4s
	VLD1R.P 4(R7), [V0.S4]
	WORD $0x4e20d56b // fadd v11.4s, v11.4s, v0.4s
	WORD $0x4e20d58c // fadd v12.4s, v12.4s, v0.4s
	WORD $0x4e20d5ad // fadd v13.4s, v13.4s, v0.4s
	VLD1R.P 4(R7), [V0.S4]
	WORD $0x4e20d5ce // fadd v14.4s, v14.4s, v0.4s
	WORD $0x4e20d5ef // fadd v15.4s, v15.4s, v0.4s
	WORD $0x4e20d610 // fadd v16.4s, v16.4s, v0.4s
	VLD1R.P 4(R7), [V0.S4]
	WORD $0x4e20d631 // fadd v17.4s, v17.4s, v0.4s
	WORD $0x4e20d652 // fadd v18.4s, v18.4s, v0.4s
	WORD $0x4e20d673 // fadd v19.4s, v19.4s, v0.4s
	VLD1R.P 4(R7), [V0.S4]
	WORD $0x4e20d694 // fadd v20.4s, v20.4s, v0.4s
	WORD $0x4e20d6b5 // fadd v21.4s, v21.4s, v0.4s
	WORD $0x4e20d6d6 // fadd v22.4s, v22.4s, v0.4s
	VLD1R.P 4(R7), [V0.S4]
	WORD $0x4e20d6f7 // fadd v23.4s, v23.4s, v0.4s
	WORD $0x4e20d718 // fadd v24.4s, v24.4s, v0.4s
	WORD $0x4e20d739 // fadd v25.4s, v25.4s, v0.4s
	VLD1R.P 4(R7), [V0.S4]
	WORD $0x4e20d75a // fadd v26.4s, v26.4s, v0.4s
	WORD $0x4e20d77b // fadd v27.4s, v27.4s, v0.4s
	WORD $0x4e20d79c // fadd v28.4s, v28.4s, v0.4s
	VLD1R.P 4(R7), [V0.S4]
	WORD $0x4e20d7bd // fadd v29.4s, v29.4s, v0.4s
	WORD $0x4e20d7de // fadd v30.4s, v30.4s, v0.4s
	WORD $0x4e20d7ff // fadd v31.4s, v31.4s, v0.4s

relu:
	TBZ  $2, R8, store
	VEOR V7.B16, V7.B16, V7.B16
	WORD $0x4ea0e900 // fcmlt v0.4s, v8.4s, #0.0
	WORD $0x4ea0e921 // fcmlt v1.4s, v9.4s, #0.0
	WORD $0x4ea0e942 // fcmlt v2.4s, v10.4s, #0.0
	VBIT V0.B16, V7.B16, V8.B16
	VBIT V1.B16, V7.B16, V9.B16
	VBIT V2.B16, V7.B16, V10.B16
	WORD $0x4ea0e960 // fcmlt v0.4s, v11.4s, #0.0
	WORD $0x4ea0e981 // fcmlt v1.4s, v12.4s, #0.0
	WORD $0x4ea0e9a2 // fcmlt v2.4s, v13.4s, #0.0
	VBIT V0.B16, V7.B16, V11.B16
	VBIT V1.B16, V7.B16, V12.B16
	VBIT V2.B16, V7.B16, V13.B16
	WORD $0x4ea0e9c0 // fcmlt v0.4s, v14.4s, #0.0
	WORD $0x4ea0e9e1 // fcmlt v1.4s, v15.4s, #0.0
	WORD $0x4ea0ea02 // fcmlt v2.4s, v16.4s, #0.0
	VBIT V0.B16, V7.B16, V14.B16
	VBIT V1.B16, V7.B16, V15.B16
	VBIT V2.B16, V7.B16, V16.B16
	WORD $0x4ea0ea20 // fcmlt v0.4s, v17.4s, #0.0
	WORD $0x4ea0ea41 // fcmlt v1.4s, v18.4s, #0.0
	WORD $0x4ea0ea62 // fcmlt v2.4s, v19.4s, #0.0
	VBIT V0.B16, V7.B16, V17.B16
	VBIT V1.B16, V7.B16, V18.B16
	VBIT V2.B16, V7.B16, V19.B16
	WORD $0x4ea0ea80 // fcmlt v0.4s, v20.4s, #0.0
	WORD $0x4ea0eaa1 // fcmlt v1.4s, v21.4s, #0.0
	WORD $0x4ea0eac2 // fcmlt v2.4s, v22.4s, #0.0
	VBIT V0.B16, V7.B16, V20.B16
	VBIT V1.B16, V7.B16, V21.B16
	VBIT V2.B16, V7.B16, V22.B16
	WORD $0x4ea0eae0 // fcmlt v0.4s, v23.4s, #0.0
	WORD $0x4ea0eb01 // fcmlt v1.4s, v24.4s, #0.0
	WORD $0x4ea0eb22 // fcmlt v2.4s, v25.4s, #0.0
	VBIT V0.B16, V7.B16, V23.B16
	VBIT V1.B16, V7.B16, V24.B16
	VBIT V2.B16, V7.B16, V25.B16
	WORD $0x4ea0eb40 // fcmlt v0.4s, v26.4s, #0.0
	WORD $0x4ea0eb61 // fcmlt v1.4s, v27.4s, #0.0
	WORD $0x4ea0eb82 // fcmlt v2.4s, v28.4s, #0.0
	VBIT V0.B16, V7.B16, V26.B16
	VBIT V1.B16, V7.B16, V27.B16
	VBIT V2.B16, V7.B16, V28.B16
	WORD $0x4ea0eba0 // fcmlt v0.4s, v29.4s, #0.0
	WORD $0x4ea0ebc1 // fcmlt v1.4s, v30.4s, #0.0
	WORD $0x4ea0ebe2 // fcmlt v2.4s, v31.4s, #0.0
	VBIT V0.B16, V7.B16, V29.B16
	VBIT V1.B16, V7.B16, V30.B16
	VBIT V2.B16, V7.B16, V31.B16

store:
	VST1 [V8.S4, V9.S4, V10.S4], (R3)
	ADD  R4, R3, R3
	VST1 [V11.S4, V12.S4, V13.S4], (R3)
	ADD  R4, R3, R3
	VST1 [V14.S4, V15.S4, V16.S4], (R3)
	ADD  R4, R3, R3
	VST1 [V17.S4, V18.S4, V19.S4], (R3)
	ADD  R4, R3, R3
	VST1 [V20.S4, V21.S4, V22.S4], (R3)
	ADD  R4, R3, R3
	VST1 [V23.S4, V24.S4, V25.S4], (R3)
	ADD  R4, R3, R3
	VST1 [V26.S4, V27.S4, V28.S4], (R3)
	ADD  R4, R3, R3
	VST1 [V29.S4, V30.S4, V31.S4], (R3)
	RET
