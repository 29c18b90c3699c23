// A finding's file pattern, for summary tables and diffs: the base name with a
// digits-only stem replaced by `*`, so Kafka's segment files group together.
//   /kafka-logs/t-0/00000000000000001000.index.deleted → *.index.deleted
//   /tmp/hsperfdata_kafka/4871                        → hsperfdata_kafka/*
// A base name that is all digits (a pid) keeps its directory's name for context.

export function filePattern(path: string): string {
  const slash = path.lastIndexOf('/');
  const base = path.slice(slash + 1);
  if (/^\d+$/.test(base)) {
    const parent = slash > 0 ? path.slice(path.lastIndexOf('/', slash - 1) + 1, slash) : '';
    return parent === '' ? '*' : `${parent}/*`;
  }
  const dot = base.indexOf('.', 1);
  if (dot > 0 && /^\d+$/.test(base.slice(0, dot))) return `*${base.slice(dot)}`;
  return base;
}
