/**
 * Public entry point of the graph layer: build graphs of ONNX ops in TypeScript, derive
 * gradients symbolically, emit ONNX. See engine/graph/API.md.
 */
export { Graph, Tensor, attr } from './graph';
export type { Node, ConstData, AttrValue, Attrs, TensorKind, GraphOutput } from './graph';
export type { DType, TypedArray, TypedArrayOf } from './dtype';
export { isFloat, allocTyped, toTyped, dtypeOfTyped } from './dtype';
export type { Dim, Shape } from './shape';
export { numel, isStatic, broadcastShapes } from './shape';
export * as ops from './ops';
export {
  add, sub, mul, div, pow, maximum, minimum, neg, exp, log, sqrt, abs, sign, sigmoid, tanh, reciprocal, relu, sin, cos, floor,
  equal, less, lessEqual, greater, greaterEqual, and, or, not, where, clip, cast, identity, stopGradient,
  matmul, reduceSum, reduceMean, reduceMax, argMax, softmax, logSoftmax, gather, gatherElements, scatterND, scatterElements,
  reshape, reshapeLike, expandLike, transpose, transposeLast2, concat, slice, pad, unsqueeze, squeeze, expand, shapeOf, size, full, zerosLike, arange,
  ints, dimTensor, shapeTensor, END,
} from './ops';
export type { TensorLike } from './ops';
export { grad, unbroadcast, VJP_RULES, NO_GRADIENT } from './grad';
export type { VjpRule, VjpContext, GradOptions } from './grad';
export { toModelProto, serialize, saveModel, OPSET, IR_VERSION } from './onnx';
export type { EmitOptions } from './onnx';
export * as nn from './nn';
export * from './errors';
