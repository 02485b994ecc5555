/*
 * Moved to decode-buf.ts (issue #23: buf, installed by npm ci, replaced protoc). These names stay
 * only so that suites written against them on other branches still build after the merge; new code
 * imports decode-buf.ts. Remove this file once nothing imports it.
 */
export {
  decodeWithBuf as decodeWithProtoc,
  encodeWithBuf as encodeWithProtoc,
  describeProtos,
  protoDir,
  type Decoded,
  type DecodedValue,
  type Loose,
} from './decode-buf';
