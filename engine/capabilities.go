package engine

import (
	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
)

// Capabilities lists the ops and dtypes the webgpu backend implements (OPS.md has the
// dtypes per op). Ops not listed fail when the graph is built, with
// "webgpu backend: op X not implemented".
var Capabilities = backends.Capabilities{
	Operations: map[backends.OpType]bool{
		backends.OpTypeAbs:              true,
		backends.OpTypeNeg:              true,
		backends.OpTypeExp:              true,
		backends.OpTypeExpm1:            true,
		backends.OpTypeLog:              true,
		backends.OpTypeLog1p:            true,
		backends.OpTypeSqrt:             true,
		backends.OpTypeRsqrt:            true,
		backends.OpTypeTanh:             true,
		backends.OpTypeLogistic:         true,
		backends.OpTypeSin:              true,
		backends.OpTypeCos:              true,
		backends.OpTypeFloor:            true,
		backends.OpTypeCeil:             true,
		backends.OpTypeRound:            true,
		backends.OpTypeErf:              true,
		backends.OpTypeSign:             true,
		backends.OpTypeLogicalNot:       true,
		backends.OpTypeBitwiseNot:       true,
		backends.OpTypeIsFinite:         true,
		backends.OpTypeIsNaN:            true,
		backends.OpTypeAdd:              true,
		backends.OpTypeSub:              true,
		backends.OpTypeMul:              true,
		backends.OpTypeDiv:              true,
		backends.OpTypeRem:              true,
		backends.OpTypeMax:              true,
		backends.OpTypeMin:              true,
		backends.OpTypePow:              true,
		backends.OpTypeLogicalAnd:       true,
		backends.OpTypeLogicalOr:        true,
		backends.OpTypeLogicalXor:       true,
		backends.OpTypeBitwiseAnd:       true,
		backends.OpTypeBitwiseOr:        true,
		backends.OpTypeBitwiseXor:       true,
		backends.OpTypeEqual:            true,
		backends.OpTypeNotEqual:         true,
		backends.OpTypeGreaterThan:      true,
		backends.OpTypeGreaterOrEqual:   true,
		backends.OpTypeLessThan:         true,
		backends.OpTypeLessOrEqual:      true,
		backends.OpTypeReduceSum:        true,
		backends.OpTypeReduceProduct:    true,
		backends.OpTypeReduceMax:        true,
		backends.OpTypeReduceMin:        true,
		backends.OpTypeReduceLogicalAnd: true,
		backends.OpTypeReduceLogicalOr:  true,
		backends.OpTypeReduceLogicalXor: true,
		backends.OpTypeParameter:        true,
		backends.OpTypeConstant:         true,
		backends.OpTypeIdentity:         true,
		backends.OpTypeWhere:            true,
		backends.OpTypeClamp:            true,
		backends.OpTypeConvertDType:     true,
		backends.OpTypeReshape:          true,
		backends.OpTypeTranspose:        true,
		backends.OpTypeBroadcastInDim:   true,
		backends.OpTypeSlice:            true,
		backends.OpTypeReverse:          true,
		backends.OpTypeConcatenate:      true,
		backends.OpTypeIota:             true,
		backends.OpTypeDotGeneral:       true,
		backends.OpTypeDot:              true,
		backends.OpTypeGather:           true,
		backends.OpTypeScatterSum:       true,
	},
	DTypes: map[dtypes.DType]bool{
		dtypes.Float32: true,
		dtypes.Int32:   true,
		dtypes.Uint32:  true,
		dtypes.Bool:    true,
		dtypes.Int64:   true, // storage, Add/Sub, conversions and data movement only
		dtypes.Float64: true, // storage, conversions and data movement only
		dtypes.Uint64:  true, // storage and data movement only
	},
}
