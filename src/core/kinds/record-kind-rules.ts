/**
 * What Shafaf must know of a record kind, in one folder per kind (`src/core/kinds/<kind>/`: the
 * record type and a `RecordKindRules` in `<kind>.ts`, registered in `record-kinds.ts`; the input
 * validation in `validate-<kind>.ts`, registered in `record-validators.ts`). The generic code — validation, leaf, amount,
 * `shafaf-tree/2` lanes, receipt JSON, batch fold and manifest — dispatches through it and holds
 * no rule of its own about any one kind.
 */
import type { AbiType, AbiValue } from "../abi.ts";
import type { RateTable } from "../rates.ts";
import type { LedgerRecord } from "../record.ts";
import type { FieldReader } from "./field-reader.ts";

export interface ValidateRecordOptions {
  /** The batch's period: rows of any other period are rejected (`period.mismatch`). */
  expectedPeriod?: string;
  /** Rate table override (default `DEFAULT_RATE_TABLE`; its `rounding` is used). */
  rates?: RateTable;
  /** Reject insurable wages outside the table's min/max monthly wage (prorated by days). Default false: the limits are unverified. */
  enforceWageLimits?: boolean;
}

/** The fields every kind has, validated by the common rules before the kind's own. */
export interface CommonFields {
  recordId: string;
  period: string;
  nationalId: string;
  province: string;
  /** `supersedes` and `reason`, each present only when given. */
  tail: { supersedes?: string; reason?: string };
}

/** Typed reads of a receipt's JSON record: `null` when present but not canonical. */
export interface JsonFields {
  readonly json: Readonly<Record<string, unknown>>;
  /** A string of at most 256 characters; `undefined` only when `optional` and absent. */
  readonly str: (key: string, optional?: boolean) => string | undefined | null;
  /** A canonical decimal amount (no sign, no leading zero, at most 77 digits). */
  readonly amount: (key: string) => bigint | null;
}

/**
 * Reads and checks a kind's own columns (recording issues on `read`), and returns the record when
 * `common` is given and every field of the kind is valid. `period` is the row's valid period even
 * when another common field failed (rules that depend on the year still run). One per kind, in
 * `src/core/kinds/<kind>/validate-<kind>.ts`, registered in `record-validators.ts`.
 */
export type ValidateKindFields<R extends LedgerRecord> = (
  read: FieldReader,
  common: CommonFields | undefined,
  period: string | undefined,
  options: ValidateRecordOptions,
) => R | undefined;

/**
 * The rules of one record kind, but its input validation ({@link ValidateKindFields}, apart so
 * that the portal does not bundle it). `R` is the kind's record type.
 */
export interface RecordKindRules<R extends LedgerRecord = LedgerRecord> {
  readonly kind: R["kind"];
  /**
   * The on-chain kind number (`ITransparencyLedger.Kind`): the leaf's `kind`, the ledger's batch
   * kind and the kind byte of a `shafaf-tree/2` province node.
   */
  readonly number: number;

  // ── input ──
  /** The input column names (CSV header, JSON Lines keys), in canonical order. */
  readonly columns: readonly string[];
  /** Columns that may be absent or empty. */
  readonly optionalColumns: readonly string[];
  /**
   * The column that identifies a foreign national who has no `foreign_id` nor nationality, if the
   * kind has one (premium: `insurance_no`). Its format problem is reported by the kind's own rule.
   */
  readonly personFallbackColumn?: "insurance_no";
  /**
   * The record's amount fields (Rials, `bigint`; decimal strings in JSON), in order. What a
   * reader of a receipt's record formats as money.
   */
  readonly amountFields: readonly string[];

  // ── leaf (`shafaf-leaf/1`) ──
  /** The domain string that opens the kind's `fieldsHash` pre-image. */
  readonly fieldsDomain: string;
  /** ABI types of the fields hashed after the domain and the salt. */
  readonly fieldsTypes: readonly AbiType[];
  /** Values of {@link fieldsTypes}; absent optional fields are `""`. */
  fieldsValues(record: R): AbiValue[];
  /** The amount the leaf commits and the batch total sums (Rials). */
  amount(record: R): bigint;

  // ── `shafaf-tree/2` ──
  /** Lane names: `records`, `persons`, then the kind's amount lanes. */
  readonly sumTreeLanes: readonly string[];
  /** The record's amount lanes (lanes 2 …), each below 2^64. */
  sumTreeAmounts(record: R): bigint[];

  // ── receipt JSON (`shafaf-receipt/1` `record`) ──
  /**
   * The kind's record from its JSON fields, `undefined` when one is missing, mistyped or not
   * canonical. `common` and `tail` are already checked.
   */
  fromJson(
    fields: JsonFields,
    common: Omit<CommonFields, "tail">,
    tail: CommonFields["tail"],
  ): R | undefined;

  // ── manifest breakdowns (`shafaf-manifest/1`) ──
  /** When present, the manifest has `byCategory`, keyed by this. */
  category?(record: R): string;
  /** When present, the manifest has `timeliness`: on time when this is true. */
  onTime?(record: R): boolean;
}
