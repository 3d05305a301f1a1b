/**
 * Where a row came from. `line` is the 1-based line where the row starts, as an editor shows it
 * (CSV, JSON Lines; the header is line 1); DBF rows use the 1-based record number in `line` too.
 * `entry` is the member path when the file is inside a zip.
 */
export interface RowSource {
  file: string;
  line: number;
  entry?: string;
}

/** One input row: the CSV column names of its kind (premium or pension) → raw text. */
export interface RawRow {
  source: RowSource;
  fields: Record<string, string | undefined>;
}
