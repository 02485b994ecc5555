import type { AttributeValue } from '@opentelemetry/api';
import type { ProfileFrame, ProfileStack } from '../profile/span-profile';
import { FRAME_TYPE_ATTRIBUTE, GENERATED_POSITION_ATTRIBUTE, V8JS_FRAME_TYPE } from './attribute-names';
import type { PbAnyValue, PbFunction, PbKeyValueAndUnit, PbLine, PbLink, PbLocation, PbProfilesDictionary, PbStack } from './otlp-model';

/** Display name of a function V8 reports without one. */
export const ANONYMOUS_FUNCTION_NAME = '(anonymous)';
/**
 * The name of the placeholder frame of a sample taken with no JavaScript frame under the probe:
 * the inspector ran the probe from the event loop, so the main thread was in libuv or native
 * code between JS callbacks (on the CPU: on Linux no probe goes to a sleeping thread), while a
 * span's context was still active. V8's CPU profiles name time outside any JS function the same
 * way. A sample is never encoded with an empty stack, which flame graphs (Pyroscope's among
 * them) would not show at all.
 */
export const NO_JS_FRAME_NAME = '(program)';
/** The stack of a sample with no JavaScript frame: the one {@link NO_JS_FRAME_NAME} frame. */
export const NO_JS_FRAME_STACK: ProfileStack = Object.freeze([
  Object.freeze({ functionName: NO_JS_FRAME_NAME, fileName: '', lineNumber: 0, columnNumber: 0 }),
]);
const VALID_TRACE_ID = /^(?!0{32})[0-9a-f]{32}$/i;
const VALID_SPAN_ID = /^(?!0{16})[0-9a-f]{16}$/i;

/**
 * Values to table indices by exact string key. Index 0 is taken by the table's zero value from
 * the start, as ProfilesDictionary requires, so an index of 0 keeps meaning "unset".
 */
class Interner<T> {
  readonly table: T[];
  private readonly _index = new Map<string, number>();

  constructor(zero: T) {
    this.table = [zero];
  }

  /** The index of the entry with `key`, appending `make()` the first time the key is seen. */
  intern(key: string, make: () => T): number {
    let index = this._index.get(key);
    if (index === undefined) {
      index = this.table.length;
      this.table.push(make());
      this._index.set(key, index);
    }
    return index;
  }
}

/**
 * One node of a trie over small integers (string and table indices): an exact key for a tuple
 * without building a string per lookup. `index` 0 = no entry ends here yet.
 */
class TrieNode {
  index = 0;
  private _children: Map<number, TrieNode> | undefined;

  child(key: number): TrieNode {
    if (this._children === undefined) this._children = new Map();
    let node = this._children.get(key);
    if (node === undefined) {
      node = new TrieNode();
      this._children.set(key, node);
    }
    return node;
  }
}

/**
 * Builds the one ProfilesDictionary of an export request. Every table is deduplicated by exact
 * keys (never hashes: a collision would silently merge two stacks). Stacks the sampler interned
 * are usually shared objects, so an identity map answers most lookups; the rest go through
 * integer tries keyed by the string and table indices of their parts.
 */
export class DictionaryBuilder {
  private readonly _strings = new Map<string, number>();
  private readonly _stringTable: string[] = [''];
  private readonly _functionTable: PbFunction[] = [{}];
  private readonly _functionKeys = new TrieNode();
  private readonly _locationTable: PbLocation[] = [{}];
  private readonly _locationKeys = new TrieNode();
  private readonly _stackTable: PbStack[] = [{}];
  private readonly _stackKeys = new TrieNode();
  // Link{} with empty ids, not the 16/8 zero bytes the proto comment prefers since #792: profcheck
  // compares index 0 with Link{} exactly, and the Collector re-emits zero ids as empty anyway.
  private readonly _links = new Interner<PbLink>({});
  private readonly _attributes = new Interner<PbKeyValueAndUnit>({});
  private readonly _stackIndex = new Map<ProfileStack, number>();
  private readonly _generatedScripts = new Map<string, number>();
  private _frameTypeAttributes: readonly number[] | undefined;

  constructor() {
    this._strings.set('', 0);
  }

  string(value: string): number {
    let index = this._strings.get(value);
    if (index === undefined) {
      index = this._stringTable.length;
      this._stringTable.push(value);
      this._strings.set(value, index);
    }
    return index;
  }

  /**
   * The stack_table index of `stack` (leaf first, as ProfileStack already is). An empty stack
   * becomes the {@link NO_JS_FRAME_STACK} placeholder, never the zero Stack{}.
   */
  stack(stack: ProfileStack): number {
    if (stack.length === 0) stack = NO_JS_FRAME_STACK;
    let index = this._stackIndex.get(stack);
    if (index === undefined) {
      const locationIndices = new Array<number>(stack.length);
      for (let i = 0; i < stack.length; i++) locationIndices[i] = this.location(stack[i]);
      // Walk from the outermost frame, so stacks sharing callers share trie nodes.
      let node = this._stackKeys;
      for (let i = locationIndices.length - 1; i >= 0; i--) node = node.child(locationIndices[i]);
      if (node.index === 0) {
        node.index = this._stackTable.length;
        this._stackTable.push({ locationIndices });
      }
      index = node.index;
      this._stackIndex.set(stack, index);
    }
    return index;
  }

  /**
   * The location_table index of one JS frame: one Line, no mapping, frame type v8js, and for a
   * source-mapped frame its generated position as an attribute.
   */
  location(frame: ProfileFrame): number {
    const functionIndex = this._function(frame);
    const line = positiveInt(frame.lineNumber);
    const column = positiveInt(frame.columnNumber);
    let node = this._locationKeys.child(functionIndex).child(line).child(column);
    const generated = frame.generated;
    if (generated !== undefined) {
      // Keyed by the generated position's parts, its attribute string built once below; the
      // script gets a key of its own, not a string_table entry that nothing would refer to.
      let script = this._generatedScripts.get(generated.fileName);
      if (script === undefined) this._generatedScripts.set(generated.fileName, (script = this._generatedScripts.size + 1));
      node = node.child(script).child(positiveInt(generated.lineNumber)).child(positiveInt(generated.columnNumber));
    }
    if (node.index === 0) {
      const pbLine: PbLine = { functionIndex };
      if (line > 0) pbLine.line = line;
      if (column > 0) pbLine.column = column;
      node.index = this._locationTable.length;
      const attributeIndices = generated === undefined ? this._frameType() : [...this._frameType(), this._generatedPosition(generated)];
      this._locationTable.push({ lines: [pbLine], attributeIndices });
    }
    return node.index;
  }

  /**
   * The link_table index of (trace, span), given as hex (32 and 16 chars); 0 (no link) when
   * either id is malformed or all zeros, since the Collector rejects ids of other lengths.
   */
  link(traceIdHex: string, spanIdHex: string): number {
    if (!VALID_TRACE_ID.test(traceIdHex) || !VALID_SPAN_ID.test(spanIdHex)) return 0;
    const key = (traceIdHex + spanIdHex).toLowerCase();
    return this._links.intern(key, () => ({
      traceId: Buffer.from(traceIdHex, 'hex'),
      spanId: Buffer.from(spanIdHex, 'hex'),
    }));
  }

  /** The attribute_table index of `key = value`; `undefined` for values OTLP cannot carry. */
  attribute(key: string, value: AttributeValue): number | undefined {
    const anyValue = toAnyValue(value);
    if (anyValue === undefined) return undefined;
    const keyStrindex = this.string(key);
    // JSON.stringify keeps the value's kind ("1" vs 1 vs true) so equal keys mean equal entries.
    return this._attributes.intern(`${keyStrindex}:${JSON.stringify(anyValue)}`, () => ({
      keyStrindex,
      value: anyValue,
    }));
  }

  /**
   * The attribute_table index of `key` = the span ID as an 8-byte `bytes_value` (the type OTLP
   * gives span IDs everywhere, Link.span_id included); `undefined` for a malformed or zero ID.
   */
  spanIdAttribute(key: string, spanIdHex: string): number | undefined {
    if (!VALID_SPAN_ID.test(spanIdHex)) return undefined;
    const keyStrindex = this.string(key);
    return this._attributes.intern(`${keyStrindex}:bytes:${spanIdHex.toLowerCase()}`, () => ({
      keyStrindex,
      value: { bytesValue: Buffer.from(spanIdHex, 'hex') },
    }));
  }

  /** The finished tables; the builder must not be used afterwards. */
  build(): PbProfilesDictionary {
    return {
      mappingTable: [{}],
      locationTable: this._locationTable,
      functionTable: this._functionTable,
      linkTable: this._links.table,
      stringTable: this._stringTable,
      attributeTable: this._attributes.table,
      stackTable: this._stackTable,
    };
  }

  private _function(frame: ProfileFrame): number {
    // Display name is never empty, so the Function always has a non-empty field as the spec
    // requires; system_name keeps V8's raw name (empty for anonymous functions), and with the
    // file it identifies the Function. A source-mapped frame's name may be the map's original
    // name, while V8's stays the system name.
    const systemNameStrindex = this.string(frame.generated?.functionName ?? frame.functionName);
    const filenameStrindex = this.string(frame.fileName);
    let node = this._functionKeys.child(systemNameStrindex).child(filenameStrindex);
    const mappedNameStrindex = frame.generated === undefined ? 0 : this.string(frame.functionName);
    if (mappedNameStrindex !== 0 && mappedNameStrindex !== systemNameStrindex) node = node.child(mappedNameStrindex);
    if (node.index === 0) {
      const ownName = mappedNameStrindex !== 0 ? mappedNameStrindex : systemNameStrindex;
      const nameStrindex = ownName === 0 ? this.string(ANONYMOUS_FUNCTION_NAME) : ownName;
      const fn: PbFunction = { nameStrindex };
      if (systemNameStrindex !== 0) fn.systemNameStrindex = systemNameStrindex;
      if (filenameStrindex !== 0) fn.filenameStrindex = filenameStrindex;
      node.index = this._functionTable.length;
      this._functionTable.push(fn);
    }
    return node.index;
  }

  private _generatedPosition(generated: ProfileFrame): number {
    const position = `${generated.fileName}:${positiveInt(generated.lineNumber)}:${positiveInt(generated.columnNumber)}`;
    return this.attribute(GENERATED_POSITION_ATTRIBUTE, position)!;
  }

  // One attribute entry and one shared index list serve every location.
  private _frameType(): readonly number[] {
    if (this._frameTypeAttributes === undefined) {
      this._frameTypeAttributes = Object.freeze([this.attribute(FRAME_TYPE_ATTRIBUTE, V8JS_FRAME_TYPE)!]);
    }
    return this._frameTypeAttributes;
  }
}

function positiveInt(value: number): number {
  return Number.isSafeInteger(value) && value > 0 ? value : 0;
}

/**
 * An OpenTelemetry attribute value as AnyValue; integers become `int_value` and other numbers
 * `double_value`, as the OpenTelemetry JS OTLP transformer does. Integers beyond 2^53 are not
 * exact in a JS number anyway, so they stay doubles.
 */
export function toAnyValue(value: AttributeValue | null | undefined): PbAnyValue | undefined {
  switch (typeof value) {
    case 'string':
      return { stringValue: value };
    case 'boolean':
      return { boolValue: value };
    case 'number':
      return Number.isSafeInteger(value) ? { intValue: value } : { doubleValue: value };
    case 'object':
      if (Array.isArray(value)) {
        return { arrayValue: { values: value.map((v: AttributeValue | null | undefined) => toAnyValue(v) ?? {}) } };
      }
      return undefined;
    default:
      return undefined;
  }
}
