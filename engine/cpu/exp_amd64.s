//go:build amd64 && !purego

#include "textflag.h"

// The constants of expAVX2, each repeated in the four lanes of a ymm register:
// log2(e), 1.5 x 2^52 (adding and subtracting it rounds to an integer, which is then in
// the low bits), ln2 cut in a high part with zero low bits and the rest, the clamp range
// [-200, 100] (e^x is 0 or +Inf in float32 outside [-104, 89]), and 1/k! for k = 10..0.
DATA expc<>+0(SB)/8, $0x3FF71547652B82FE
DATA expc<>+8(SB)/8, $0x3FF71547652B82FE
DATA expc<>+16(SB)/8, $0x3FF71547652B82FE
DATA expc<>+24(SB)/8, $0x3FF71547652B82FE
DATA expc<>+32(SB)/8, $0x4338000000000000
DATA expc<>+40(SB)/8, $0x4338000000000000
DATA expc<>+48(SB)/8, $0x4338000000000000
DATA expc<>+56(SB)/8, $0x4338000000000000
DATA expc<>+64(SB)/8, $0x3FE62E42FEE00000
DATA expc<>+72(SB)/8, $0x3FE62E42FEE00000
DATA expc<>+80(SB)/8, $0x3FE62E42FEE00000
DATA expc<>+88(SB)/8, $0x3FE62E42FEE00000
DATA expc<>+96(SB)/8, $0x3DEA39EF35793C76
DATA expc<>+104(SB)/8, $0x3DEA39EF35793C76
DATA expc<>+112(SB)/8, $0x3DEA39EF35793C76
DATA expc<>+120(SB)/8, $0x3DEA39EF35793C76
DATA expc<>+128(SB)/8, $0x4059000000000000
DATA expc<>+136(SB)/8, $0x4059000000000000
DATA expc<>+144(SB)/8, $0x4059000000000000
DATA expc<>+152(SB)/8, $0x4059000000000000
DATA expc<>+160(SB)/8, $0xC069000000000000
DATA expc<>+168(SB)/8, $0xC069000000000000
DATA expc<>+176(SB)/8, $0xC069000000000000
DATA expc<>+184(SB)/8, $0xC069000000000000
DATA expc<>+192(SB)/8, $0x3E927E4FB7789F5C
DATA expc<>+200(SB)/8, $0x3E927E4FB7789F5C
DATA expc<>+208(SB)/8, $0x3E927E4FB7789F5C
DATA expc<>+216(SB)/8, $0x3E927E4FB7789F5C
DATA expc<>+224(SB)/8, $0x3EC71DE3A556C734
DATA expc<>+232(SB)/8, $0x3EC71DE3A556C734
DATA expc<>+240(SB)/8, $0x3EC71DE3A556C734
DATA expc<>+248(SB)/8, $0x3EC71DE3A556C734
DATA expc<>+256(SB)/8, $0x3EFA01A01A01A01A
DATA expc<>+264(SB)/8, $0x3EFA01A01A01A01A
DATA expc<>+272(SB)/8, $0x3EFA01A01A01A01A
DATA expc<>+280(SB)/8, $0x3EFA01A01A01A01A
DATA expc<>+288(SB)/8, $0x3F2A01A01A01A01A
DATA expc<>+296(SB)/8, $0x3F2A01A01A01A01A
DATA expc<>+304(SB)/8, $0x3F2A01A01A01A01A
DATA expc<>+312(SB)/8, $0x3F2A01A01A01A01A
DATA expc<>+320(SB)/8, $0x3F56C16C16C16C17
DATA expc<>+328(SB)/8, $0x3F56C16C16C16C17
DATA expc<>+336(SB)/8, $0x3F56C16C16C16C17
DATA expc<>+344(SB)/8, $0x3F56C16C16C16C17
DATA expc<>+352(SB)/8, $0x3F81111111111111
DATA expc<>+360(SB)/8, $0x3F81111111111111
DATA expc<>+368(SB)/8, $0x3F81111111111111
DATA expc<>+376(SB)/8, $0x3F81111111111111
DATA expc<>+384(SB)/8, $0x3FA5555555555555
DATA expc<>+392(SB)/8, $0x3FA5555555555555
DATA expc<>+400(SB)/8, $0x3FA5555555555555
DATA expc<>+408(SB)/8, $0x3FA5555555555555
DATA expc<>+416(SB)/8, $0x3FC5555555555555
DATA expc<>+424(SB)/8, $0x3FC5555555555555
DATA expc<>+432(SB)/8, $0x3FC5555555555555
DATA expc<>+440(SB)/8, $0x3FC5555555555555
DATA expc<>+448(SB)/8, $0x3FE0000000000000
DATA expc<>+456(SB)/8, $0x3FE0000000000000
DATA expc<>+464(SB)/8, $0x3FE0000000000000
DATA expc<>+472(SB)/8, $0x3FE0000000000000
DATA expc<>+480(SB)/8, $0x3FF0000000000000
DATA expc<>+488(SB)/8, $0x3FF0000000000000
DATA expc<>+496(SB)/8, $0x3FF0000000000000
DATA expc<>+504(SB)/8, $0x3FF0000000000000
DATA expc<>+512(SB)/8, $0x3FF0000000000000
DATA expc<>+520(SB)/8, $0x3FF0000000000000
DATA expc<>+528(SB)/8, $0x3FF0000000000000
DATA expc<>+536(SB)/8, $0x3FF0000000000000
DATA expc<>+544(SB)/4, $0x80000000
DATA expc<>+548(SB)/4, $0x80000000
DATA expc<>+552(SB)/4, $0x80000000
DATA expc<>+556(SB)/4, $0x80000000
DATA expc<>+560(SB)/4, $0x3F800000
DATA expc<>+564(SB)/4, $0x3F800000
DATA expc<>+568(SB)/4, $0x3F800000
DATA expc<>+572(SB)/4, $0x3F800000
GLOBL expc<>(SB), RODATA|NOPTR, $576

// EXP_F64 sets X5 to e^x, four float32s, for x the four float64s in Y0 (Y1-Y4 scratch;
// the constants in Y8, Y9, Y12, Y13): x clamped to [-200, 100], x = n·ln2 + r with
// |r| <= ln2/2, e^r by its Taylor polynomial of degree 10 (relative error < 3e-13), 2^n
// added into the exponent bits, the float64 rounded to float32. NaN stays NaN
// (VMINPD/VMAXPD return their second source when one is NaN).
#define EXP_F64 \
	VMINPD Y0, Y12, Y1; \
	VMAXPD Y1, Y13, Y1; \
	VMOVAPD Y9, Y2; \
	VFMADD231PD Y8, Y1, Y2; \
	VSUBPD Y9, Y2, Y3; \
	VFNMADD231PD expc<>+64(SB), Y3, Y1; \
	VFNMADD231PD expc<>+96(SB), Y3, Y1; \
	VMOVUPD expc<>+192(SB), Y4; \
	VFMADD213PD expc<>+224(SB), Y1, Y4; \
	VFMADD213PD expc<>+256(SB), Y1, Y4; \
	VFMADD213PD expc<>+288(SB), Y1, Y4; \
	VFMADD213PD expc<>+320(SB), Y1, Y4; \
	VFMADD213PD expc<>+352(SB), Y1, Y4; \
	VFMADD213PD expc<>+384(SB), Y1, Y4; \
	VFMADD213PD expc<>+416(SB), Y1, Y4; \
	VFMADD213PD expc<>+448(SB), Y1, Y4; \
	VFMADD213PD expc<>+480(SB), Y1, Y4; \
	VFMADD213PD expc<>+512(SB), Y1, Y4; \
	VPSLLQ $52, Y2, Y2; \
	VPADDQ Y2, Y4, Y4; \
	VCVTPD2PSY Y4, X5;

// func expAVX2(dst, src *float32, n int)
//
// dst[i] = e^src[i] for i < n (n a multiple of 4), four at a time (EXP_F64).
TEXT ·expAVX2(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	SHRQ $2, CX
	JZ done
	VMOVUPD expc<>+0(SB), Y8
	VMOVUPD expc<>+32(SB), Y9
	VMOVUPD expc<>+128(SB), Y12
	VMOVUPD expc<>+160(SB), Y13
loop:
	VCVTPS2PD (SI), Y0
	EXP_F64
	VMOVUPS X5, (DI)
	ADDQ $16, SI
	ADDQ $16, DI
	DECQ CX
	JNZ loop
	VZEROUPPER
done:
	RET

// func logisticAVX2(dst, src *float32, n int)
//
// dst[i] = 1/(1+e) for src[i] >= 0, e/(1+e) otherwise (NaN: NaN), with e = e^-|src[i]|
// (EXP_F64), for i < n (n a multiple of 4): Go's float32 operations of execLogistic,
// chosen by the sign bit of src[i] in a blend instead of a branch (-0 gives e/(1+e) =
// 1/2 = 1/(1+e)).
TEXT ·logisticAVX2(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	SHRQ $2, CX
	JZ ldone
	VMOVUPD expc<>+0(SB), Y8
	VMOVUPD expc<>+32(SB), Y9
	VMOVUPD expc<>+128(SB), Y12
	VMOVUPD expc<>+160(SB), Y13
	VMOVUPS expc<>+544(SB), X14
	VMOVUPS expc<>+560(SB), X15
lloop:
	VMOVUPS (SI), X10
	VORPS X14, X10, X11
	VCVTPS2PD X11, Y0
	EXP_F64
	VADDPS X15, X5, X6
	VDIVPS X6, X15, X7
	VDIVPS X6, X5, X11
	VBLENDVPS X10, X11, X7, X4
	VMOVUPS X4, (DI)
	ADDQ $16, SI
	ADDQ $16, DI
	DECQ CX
	JNZ lloop
	VZEROUPPER
ldone:
	RET
