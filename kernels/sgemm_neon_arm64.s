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
