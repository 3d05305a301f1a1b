/**
 * What a batch records about each source file (in its manifest), so that a batch can be
 * recomputed deterministically years later. Types only; the readers that fill them are in
 * `src/ingest`.
 */
/** The encodings a source can be read in (recorded in the manifest). */
export type SourceEncoding = "utf-8" | "utf-8-bom" | "cp1256" | "iran-system";
export type SourceFormat = "csv" | "jsonl" | "sso-dbf";
export type SsoLayout = "v6" | "v2.7" | "wide";

/**
 * What the manifest records about one source file, so that a batch can be recomputed
 * deterministically years later: which bytes (sha256), read how (format, layout, encoding).
 * A DBF inside a zip is listed on its own: `name` is the zip, `entry` the member path, `sha256`
 * the member's (uncompressed) bytes, and `containerSha256` the zip file's.
 */
export interface SourceInfo {
  /** The file name as given (base name; for a folder input, `folder/relative/path`). */
  name: string;
  entry?: string;
  /** Lower-case hex SHA-256 of the file's bytes. */
  sha256: string;
  containerSha256?: string;
  format: SourceFormat;
  /** DBF only. */
  layout?: SsoLayout;
  encoding: SourceEncoding;
  /** Data rows (CSV, JSON Lines) or live records (DBF) read from the file. */
  records: number;
  /** DBF only: records marked deleted and skipped. */
  deletedRecords?: number;
}
