/**
 * Where a row came from. `line` is the 1-based line where the row starts, as an editor shows it
 * (CSV, JSON Lines; the header is line 1); DBF rows use the 1-based record number in `line` too.
 * `entry` is the member path when the file is inside a zip.
 */
export interface RowSource {
  file: string;
  line: number;
  entry?: string;
  /**
   * The employer's list the row belongs to, when it is not the file itself: an SSO list's
   * pair folder (`lists/w1`, `lists.zip!w1`). The anchor pipeline accepts or quarantines a
   * list as a unit; rows without `list` belong to the list of their file.
   */
  list?: string;
}

/** One input row: the CSV column names of its kind (premium or pension) → raw text. */
export interface RawRow {
  source: RowSource;
  fields: Record<string, string | undefined>;
}
