import * as assert from 'node:assert';
import { describeProtos, type Loose } from '../helpers/decode-buf';

// Field tables of OTLP v1.11.0 profiles (the upstream profiles.proto), transcribed by hand: what proto/ must
// declare, as `name number type` with `[]` for repeated fields.
const EXPECTED: Record<string, string> = {
  'opentelemetry.proto.collector.profiles.v1development.ExportProfilesServiceRequest':
    'resource_profiles 1 ResourceProfiles[]; dictionary 2 ProfilesDictionary',
  'opentelemetry.proto.collector.profiles.v1development.ExportProfilesServiceResponse': 'partial_success 1 ExportProfilesPartialSuccess',
  'opentelemetry.proto.collector.profiles.v1development.ExportProfilesPartialSuccess': 'rejected_profiles 1 int64; error_message 2 string',
  'opentelemetry.proto.profiles.v1development.ProfilesDictionary':
    'mapping_table 1 Mapping[]; location_table 2 Location[]; function_table 3 Function[]; link_table 4 Link[]; ' +
    'string_table 5 string[]; attribute_table 6 KeyValueAndUnit[]; stack_table 7 Stack[]',
  'opentelemetry.proto.profiles.v1development.ProfilesData': 'resource_profiles 1 ResourceProfiles[]; dictionary 2 ProfilesDictionary',
  'opentelemetry.proto.profiles.v1development.ResourceProfiles':
    'resource 1 Resource; scope_profiles 2 ScopeProfiles[]; schema_url 3 string',
  'opentelemetry.proto.profiles.v1development.ScopeProfiles': 'scope 1 InstrumentationScope; profiles 2 Profile[]; schema_url 3 string',
  'opentelemetry.proto.profiles.v1development.Profile':
    'sample_type 1 ValueType; samples 2 Sample[]; time_unix_nano 3 fixed64; duration_nano 4 uint64; period_type 5 ValueType; ' +
    'period 6 int64; profile_id 7 bytes; dropped_attributes_count 8 uint32; original_payload_format 9 string; ' +
    'original_payload 10 bytes; attribute_indices 11 int32[]',
  'opentelemetry.proto.profiles.v1development.Sample':
    'stack_index 1 int32; attribute_indices 2 int32[]; link_index 3 int32; values 4 int64[]; timestamps_unix_nano 5 fixed64[]',
  'opentelemetry.proto.profiles.v1development.Link': 'trace_id 1 bytes; span_id 2 bytes',
  'opentelemetry.proto.profiles.v1development.ValueType': 'type_strindex 1 int32; unit_strindex 2 int32',
  'opentelemetry.proto.profiles.v1development.Stack': 'location_indices 1 int32[]',
  'opentelemetry.proto.profiles.v1development.Location':
    'mapping_index 1 int32; address 2 uint64; lines 3 Line[]; attribute_indices 4 int32[]',
  'opentelemetry.proto.profiles.v1development.Line': 'function_index 1 int32; line 2 int64; column 3 int64',
  'opentelemetry.proto.profiles.v1development.Function':
    'name_strindex 1 int32; system_name_strindex 2 int32; filename_strindex 3 int32; start_line 4 int64',
  'opentelemetry.proto.profiles.v1development.Mapping':
    'memory_start 1 uint64; memory_limit 2 uint64; file_offset 3 uint64; filename_strindex 4 int32; attribute_indices 5 int32[]',
  'opentelemetry.proto.profiles.v1development.KeyValueAndUnit': 'key_strindex 1 int32; value 2 AnyValue; unit_strindex 3 int32',
  'opentelemetry.proto.common.v1.AnyValue':
    'string_value 1 string; bool_value 2 bool; int_value 3 int64; double_value 4 double; array_value 5 ArrayValue; ' +
    'kvlist_value 6 KeyValueList; bytes_value 7 bytes; string_value_strindex 8 int32',
  'opentelemetry.proto.common.v1.ArrayValue': 'values 1 AnyValue[]',
  'opentelemetry.proto.common.v1.KeyValueList': 'values 1 KeyValue[]',
  'opentelemetry.proto.common.v1.KeyValue': 'key 1 string; value 2 AnyValue; key_strindex 3 int32',
  'opentelemetry.proto.common.v1.InstrumentationScope':
    'name 1 string; version 2 string; attributes 3 KeyValue[]; dropped_attributes_count 4 uint32',
  'opentelemetry.proto.common.v1.EntityRef': 'schema_url 1 string; type 2 string; id_keys 3 string[]; description_keys 4 string[]',
  'opentelemetry.proto.resource.v1.Resource': 'attributes 1 KeyValue[]; dropped_attributes_count 2 uint32; entity_refs 3 EntityRef[]',
};

function declaredMessages(): Map<string, string> {
  const out = new Map<string, string>();
  for (const file of describeProtos().file as Loose[]) {
    const pkg = (file.package as string[])[0];
    for (const message of (file.message_type ?? []) as Loose[]) {
      const fields = ((message.field ?? []) as Loose[]).map((f) => {
        const typeName = (f.type_name as string[] | undefined)?.[0];
        const type = typeName ? typeName.slice(typeName.lastIndexOf('.') + 1) : (f.type as string[])[0].slice(5).toLowerCase();
        const repeated = (f.label as string[])[0] === 'LABEL_REPEATED' ? '[]' : '';
        return `${(f.name as string[])[0]} ${(f.number as string[])[0]} ${type}${repeated}`;
      });
      out.set(`${pkg}.${(message.name as string[])[0]}`, fields.join('; '));
    }
  }
  return out;
}

describe('proto/', function () {
  it('should declare every message with the official packages, names, numbers and types', function () {
    const declared = declaredMessages();
    for (const [name, fields] of Object.entries(EXPECTED)) {
      assert.strictEqual(declared.get(name), fields, name);
    }
    assert.deepStrictEqual([...declared.keys()].sort(), Object.keys(EXPECTED).sort());
  });

  it('should declare the ProfilesService Export rpc', function () {
    const service = (describeProtos().file as Loose[]).flatMap((f) => (f.service ?? []) as Loose[]);
    assert.deepStrictEqual(
      service.map((s) => [(s.name as string[])[0], ((s.method as Loose[]) ?? []).map((m) => (m.name as string[])[0])]),
      [['ProfilesService', ['Export']]],
    );
  });
});
