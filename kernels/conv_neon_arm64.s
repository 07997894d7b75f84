//go:build !noasm

#include "textflag.h"

// Direct 3×3 convolution of one zero-padded input plane, NEON (the conv3x3In1 entry: the first layer
// of the CNN, cin = 1, where im2col + GEMM with K = 9 mostly moves memory). Four output columns per
// trip: the nine taps are unaligned loads of the three padded rows at x, x+1, x+2, each multiplied by
// one weight held as a vector lane (FMLA by element), in the reference's order after the bias.
//
// WORD lines (no Go mnemonic): FMLA (by element) and FMAX. Encodings from llvm-mc -triple=aarch64
// -show-encoding, each checked back with llvm-mc --disassemble. FMAX(s, lo) keeps NaN and gives
// max(+0, -0) = +0 as Go's max does, so lo = 0 is the ReLU and lo = -Inf the identity.

// func conv3x3In1Cols_neon(dst, pad, weight, bias *float32, cout, h, w, wv, m int, lo float32)
TEXT ·conv3x3In1Cols_neon(SB), NOSPLIT, $0-76
	MOVD  dst+0(FP), R0
	MOVD  pad+8(FP), R1
	MOVD  weight+16(FP), R2
	MOVD  bias+24(FP), R3
	MOVD  cout+32(FP), R4
	MOVD  h+40(FP), R5
	MOVD  w+48(FP), R6
	MOVD  wv+56(FP), R9
	MOVD  m+64(FP), R7
	FMOVS lo+72(FP), F31
	VDUP  V31.S[0], V31.S4
	ADD   $2, R6, R8
	LSL   $2, R8, R8 // padded row stride, bytes
	LSL   $2, R6, R22 // output row stride, bytes
	LSL   $2, R7, R23 // output channel stride, bytes
	LSR   $2, R9, R9 // trips per row
	CBZ   R4, done
	CBZ   R5, done
	CBZ   R9, done

coloop:
	VLD1    (R2), [V16.S4, V17.S4] // weights 0..7 of this channel
	FMOVS   32(R2), F18            // weight 8
	ADD     $36, R2, R2
	VLD1R.P 4(R3), [V19.S4]        // bias, in every lane
	MOVD    R1, R10
	MOVD    R0, R11
	MOVD    R5, R12

yloop:
	MOVD R10, R13
	ADD  R8, R13, R14
	ADD  R8, R14, R15
	MOVD R11, R24
	MOVD R9, R19

xloop:
	VMOV  V19.B16, V0.B16
	VLD1  (R13), [V1.S4]
	ADD   $4, R13, R20
	VLD1  (R20), [V2.S4]
	ADD   $8, R13, R20
	VLD1  (R20), [V3.S4]
	VLD1  (R14), [V4.S4]
	ADD   $4, R14, R20
	VLD1  (R20), [V5.S4]
	ADD   $8, R14, R20
	VLD1  (R20), [V6.S4]
	VLD1  (R15), [V7.S4]
	ADD   $4, R15, R20
	VLD1  (R20), [V8.S4]
	ADD   $8, R15, R20
	VLD1  (R20), [V9.S4]
	WORD $0x4f901020 // fmla v0.4s, v1.4s, v16.s[0]
	WORD $0x4fb01040 // fmla v0.4s, v2.4s, v16.s[1]
	WORD $0x4f901860 // fmla v0.4s, v3.4s, v16.s[2]
	WORD $0x4fb01880 // fmla v0.4s, v4.4s, v16.s[3]
	WORD $0x4f9110a0 // fmla v0.4s, v5.4s, v17.s[0]
	WORD $0x4fb110c0 // fmla v0.4s, v6.4s, v17.s[1]
	WORD $0x4f9118e0 // fmla v0.4s, v7.4s, v17.s[2]
	WORD $0x4fb11900 // fmla v0.4s, v8.4s, v17.s[3]
	WORD $0x4f921120 // fmla v0.4s, v9.4s, v18.s[0]
	WORD $0x4e3ff400 // fmax v0.4s, v0.4s, v31.4s
	VST1.P [V0.S4], 16(R24)
	ADD    $16, R13, R13
	ADD    $16, R14, R14
	ADD    $16, R15, R15
	SUBS   $1, R19, R19
	BNE    xloop

	ADD  R8, R10, R10
	ADD  R22, R11, R11
	SUBS $1, R12, R12
	BNE  yloop

	ADD  R23, R0, R0
	SUBS $1, R4, R4
	BNE  coloop

done:
	RET
