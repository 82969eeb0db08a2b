/**
 * The file format of a directory (`isc-responder sandbox --directory FILE`, JSON or YAML): people,
 * access items, sources, governance groups, SoD policies and access-request history, written the way
 * a person describes a tenant. Objects refer to each other by id (`manager: <identity id>`); the
 * Directory (directory.ts) checks those references and builds the ISC objects from them.
 * yaml is imported only when a YAML file is read, so code that builds directories in memory does not
 * load it.
 */
import { readFile } from "node:fs/promises";
import * as z from "zod/mini";
import { formatPath, ValidationError, type ValidationIssue } from "../errors.ts";

/** The characters an id may have (the ISC client refuses others before they reach a URL). */
export const PLAIN_ID = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$/;

const id = z.string().check(z.regex(PLAIN_ID, "must be a plain id (letters, digits, _ . : -; at most 128)"));
const name = z.string().check(z.minLength(1));
const optionalText = z.optional(z.nullable(z.string()));
const idList = z.optional(z.array(id));
const dateTime = z.iso.datetime({ offset: true });

export const IDENTITY_STATUSES = [
  "UNREGISTERED",
  "REGISTERED",
  "PENDING",
  "WARNING",
  "DISABLED",
  "ACTIVE",
  "DEACTIVATED",
  "TERMINATED",
  "ERROR",
  "LOCKED",
] as const;

/** `{key: iscPrivacy, name: Privacy, values: [{value: confidential, name: Confidential}]}`. */
const AccessModelMetadataEntry = z.strictObject({
  key: name,
  name: z.optional(z.string()),
  values: z.array(z.strictObject({ value: name, name: z.optional(z.string()) })),
});
const accessModelMetadata = z.optional(z.array(AccessModelMetadataEntry));

export const DirectoryIdentitySchema = z.strictObject({
  id,
  name,
  alias: z.optional(z.string()),
  emailAddress: optionalText,
  /** Default ACTIVE. */
  identityStatus: z.optional(z.enum(IDENTITY_STATUSES)),
  /** A state name (`active`, `inactive`, `terminated`, custom ones) or ISC's object. Default `active`. */
  lifecycleState: z.optional(
    z.union([name, z.strictObject({ stateName: name, manuallyUpdated: z.optional(z.boolean()) })]),
  ),
  /** The manager's identity id; absent or null: no manager. */
  manager: z.optional(z.nullable(id)),
  /** Default: whether anyone in the directory has this person as manager. */
  isManager: z.optional(z.boolean()),
  /** Identity attributes (department, employeeType, custom ones); cloudLifecycleState is added. */
  attributes: z.optional(z.record(z.string(), z.unknown())),
  /** Entitlement ids the person holds today (directly or through roles and access profiles). */
  access: idList,
});

export const DirectoryEntitlementSchema = z.strictObject({
  id,
  name,
  source: id,
  /** An identity id; absent or null: the entitlement has no owner (its source's owner is used). */
  owner: z.optional(z.nullable(id)),
  /** Default false. */
  privileged: z.optional(z.boolean()),
  /** Default true. */
  requestable: z.optional(z.boolean()),
  /** Default `memberOf`. */
  attribute: z.optional(z.string()),
  /** Default: the name. */
  value: z.optional(z.string()),
  description: optionalText,
  attributes: z.optional(z.record(z.string(), z.unknown())),
  accessModelMetadata,
});

export const DirectoryAccessProfileSchema = z.strictObject({
  id,
  name,
  description: optionalText,
  /** An identity id (ISC requires an access profile owner). */
  owner: id,
  source: id,
  entitlements: z.array(id),
  requestable: z.optional(z.boolean()),
  enabled: z.optional(z.boolean()),
  accessModelMetadata,
});

export const DirectoryRoleSchema = z.strictObject({
  id,
  name,
  description: optionalText,
  /** An identity id (ISC requires a role owner). */
  owner: id,
  accessProfiles: idList,
  entitlements: idList,
  /** ISC's privilege level of the role (e.g. HIGH), null when unset. */
  privilegeLevel: optionalText,
  requestable: z.optional(z.boolean()),
  enabled: z.optional(z.boolean()),
  dimensional: z.optional(z.boolean()),
  accessModelMetadata,
});

export const DirectorySourceSchema = z.strictObject({
  id,
  name,
  description: optionalText,
  /** An identity id, or null. */
  owner: z.optional(z.nullable(id)),
  /** A governance group id, or null. */
  managementWorkgroup: z.optional(z.nullable(id)),
  /** Default `Active Directory - Direct`. */
  type: z.optional(z.string()),
  /** Default `active-directory`. */
  connector: z.optional(z.string()),
  authoritative: z.optional(z.boolean()),
});

export const DirectoryGovernanceGroupSchema = z.strictObject({
  id,
  name,
  description: optionalText,
  /** An identity id. */
  owner: id,
  /** Identity ids. */
  members: z.array(id),
});

const SodSideSchema = z.strictObject({ name: z.optional(z.string()), entitlements: z.array(id) });

export const DirectorySodPolicySchema = z.strictObject({
  id,
  name,
  description: optionalText,
  /** An identity or governance group id. */
  owner: id,
  /** Who owns a violation: the person's MANAGER, or a STATIC owner (identity or governance group id). */
  violationOwner: z.optional(
    z.nullable(
      z.discriminatedUnion("assignmentRule", [
        z.strictObject({ assignmentRule: z.literal("MANAGER") }),
        z.strictObject({ assignmentRule: z.literal("STATIC"), owner: id }),
      ]),
    ),
  ),
  /** Default ENFORCED; only enforced policies are predicted. */
  state: z.optional(z.enum(["ENFORCED", "NOT_ENFORCED"])),
  /** A person violates the policy when they hold at least one entitlement of each side. */
  left: SodSideSchema,
  right: SodSideSchema,
});

export const ACCESS_REQUEST_STATES = [
  "EXECUTING",
  "REQUEST_COMPLETED",
  "CANCELLED",
  "TERMINATED",
  "PROVISIONING_VERIFICATION_PENDING",
  "REJECTED",
  "PROVISIONING_FAILED",
  "NOT_ALL_ITEMS_PROVISIONED",
  "ERROR",
] as const;

/** One requested item of an access request, as GET /v3/access-request-status lists it. */
export const DirectoryAccessRequestSchema = z.strictObject({
  accessRequestId: id,
  /** The identity the access is for. */
  requestedFor: id,
  /** The identity who asked; default: requestedFor. */
  requester: z.optional(id),
  /** An entitlement, access profile or role id of the directory. */
  item: id,
  /** Default EXECUTING. */
  state: z.optional(z.enum(ACCESS_REQUEST_STATES)),
  /** Default GRANT_ACCESS. */
  requestType: z.optional(z.enum(["GRANT_ACCESS", "REVOKE_ACCESS", "MODIFY_ACCESS"])),
  comment: optionalText,
  /** When it was made: an ISO date-time, or `ago` (an ISO duration before the directory was loaded). */
  created: z.optional(dateTime),
  ago: z.optional(z.string().check(z.regex(/^P/, "must be an ISO-8601 duration like PT2H or P1D"))),
});

export const DirectoryFileSchema = z.strictObject({
  $schema: z.optional(z.string()),
  /** A name shown by the sandbox (default: the file name). */
  name: z.optional(z.string()),
  identities: z.optional(z.array(DirectoryIdentitySchema)),
  entitlements: z.optional(z.array(DirectoryEntitlementSchema)),
  accessProfiles: z.optional(z.array(DirectoryAccessProfileSchema)),
  roles: z.optional(z.array(DirectoryRoleSchema)),
  sources: z.optional(z.array(DirectorySourceSchema)),
  governanceGroups: z.optional(z.array(DirectoryGovernanceGroupSchema)),
  sodPolicies: z.optional(z.array(DirectorySodPolicySchema)),
  accessRequests: z.optional(z.array(DirectoryAccessRequestSchema)),
});

export type DirectoryFile = z.infer<typeof DirectoryFileSchema>;
export type DirectoryIdentity = z.infer<typeof DirectoryIdentitySchema>;
export type DirectoryEntitlement = z.infer<typeof DirectoryEntitlementSchema>;
export type DirectoryAccessProfile = z.infer<typeof DirectoryAccessProfileSchema>;
export type DirectoryRole = z.infer<typeof DirectoryRoleSchema>;
export type DirectorySource = z.infer<typeof DirectorySourceSchema>;
export type DirectoryGovernanceGroup = z.infer<typeof DirectoryGovernanceGroupSchema>;
export type DirectorySodPolicy = z.infer<typeof DirectorySodPolicySchema>;
export type DirectoryAccessRequest = z.infer<typeof DirectoryAccessRequestSchema>;

type ZodIssueLike = {
  path: ReadonlyArray<PropertyKey>;
  message: string;
  code?: string;
  keys?: readonly string[];
  expected?: string;
  values?: readonly unknown[];
  origin?: string;
  minimum?: number | bigint;
  format?: string;
  errors?: ReadonlyArray<ReadonlyArray<ZodIssueLike>>;
};

/** zod/mini ships no locale (its messages are "Invalid input"): say what was expected. */
function messageOf(issue: ZodIssueLike): string {
  if (issue.message !== "Invalid input" && issue.message !== "") return issue.message;
  switch (issue.code) {
    case "invalid_type":
      return `expected ${issue.expected ?? "another type"}`;
    case "invalid_value":
      return `expected one of ${(issue.values ?? []).map((value) => JSON.stringify(value)).join(", ")}`;
    case "too_small":
      return issue.origin === "string" ? "must not be empty" : `must have at least ${issue.minimum}`;
    case "invalid_format":
      return issue.format === "datetime"
        ? "must be an ISO-8601 date-time"
        : `has an invalid format (${issue.format})`;
    case "invalid_union":
      return "matches none of the allowed forms";
    default:
      return "is invalid";
  }
}

/** zod issues → path-based messages a person can act on (unknown keys named, unions explained). */
export function directoryIssues(issues: ReadonlyArray<ZodIssueLike>): ValidationIssue[] {
  return issues.flatMap((issue): ValidationIssue[] => {
    if (issue.code === "unrecognized_keys" && issue.keys !== undefined) {
      return issue.keys.map((key) => ({
        path: formatPath([...issue.path, key]),
        message: "unknown field (check its spelling against docs/sandbox.md)",
      }));
    }
    if (issue.code === "invalid_union" && issue.errors !== undefined && issue.errors.length > 0) {
      // The branch with the fewest problems is the one the author meant.
      const closest = [...issue.errors].sort((a, b) => a.length - b.length)[0]!;
      return directoryIssues(closest.map((inner) => ({ ...inner, path: [...issue.path, ...inner.path] })));
    }
    return [{ path: formatPath(issue.path), message: messageOf(issue) }];
  });
}

/** Validates a directory document (already parsed from JSON or YAML); throws ValidationError. */
export function parseDirectoryFile(value: unknown, source = "directory"): DirectoryFile {
  const result = z.safeParse(DirectoryFileSchema, value ?? {});
  if (!result.success) {
    throw new ValidationError(
      source,
      directoryIssues(result.error.issues as unknown as ZodIssueLike[]),
      "INVALID_DIRECTORY",
    );
  }
  return result.data;
}

/** Parses JSON or YAML text (yaml loaded on demand), with the line of each issue for YAML and JSON alike. */
export async function parseDirectoryText(text: string, filename: string): Promise<DirectoryFile> {
  const { LineCounter, parseDocument, isMap, isSeq, isPair, isScalar } = await import("yaml");
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const what = `directory file ${filename}`;
  if (doc.errors.length > 0) {
    throw new ValidationError(
      what,
      doc.errors.slice(0, 20).map((error) => ({
        path: "",
        line: lineCounter.linePos(error.pos[0]).line,
        message: `syntax error: ${(error.message.split("\n")[0] ?? error.code).replace(/ at line \d+.*$/, "")}`,
      })),
      "INVALID_DIRECTORY",
    );
  }
  const lineOf = (path: readonly (string | number)[]): number | undefined => {
    let node: unknown = doc.contents;
    let offset = (doc.contents as { range?: [number] } | null)?.range?.[0];
    for (const key of path) {
      let next: { range?: [number] } | undefined;
      if (isMap(node)) {
        const pair = node.items.find(
          (item) => isPair(item) && isScalar(item.key) && String(item.key.value) === String(key),
        );
        if (pair === undefined) break;
        offset = (pair.key as { range?: [number] }).range?.[0] ?? offset;
        next = pair.value as { range?: [number] } | undefined;
        node = next;
        continue;
      }
      if (isSeq(node) && typeof key === "number") {
        next = node.items[key] as { range?: [number] } | undefined;
        if (next === undefined) break;
        offset = next.range?.[0] ?? offset;
        node = next;
        continue;
      }
      break;
    }
    return offset === undefined ? undefined : lineCounter.linePos(offset).line;
  };
  try {
    return parseDirectoryFile(doc.toJS({ maxAliasCount: 100 }), what);
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    throw new ValidationError(
      what,
      error.issues.map((issue) => withLine(issue, lineOf)),
      "INVALID_DIRECTORY",
    );
  }
}

function withLine(
  issue: ValidationIssue,
  lineOf: (path: readonly (string | number)[]) => number | undefined,
): ValidationIssue {
  const path: (string | number)[] = [];
  for (const match of issue.path.matchAll(/([^.[\]]+)|\[(\d+)\]/g)) {
    path.push(match[2] !== undefined ? Number(match[2]) : match[1]!);
  }
  const line = lineOf(path);
  return line === undefined ? issue : { ...issue, line };
}

/** Reads a directory file (JSON or YAML). Throws ValidationError naming the file, paths and lines. */
export async function readDirectoryFile(path: string): Promise<DirectoryFile> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    throw new ValidationError(
      `directory file ${path}`,
      [{ path: "", message: `cannot read the file (${(error as NodeJS.ErrnoException).code ?? "error"})` }],
      "INVALID_DIRECTORY",
    );
  }
  return parseDirectoryText(text, path);
}
