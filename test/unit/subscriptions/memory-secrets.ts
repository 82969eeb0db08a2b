import type { RotationSecretsApi } from "../../../lib/subscriptions/rotation.ts";

/** Secrets Manager in memory: versions with staging labels. */
export class MemorySecrets implements RotationSecretsApi {
  versions = new Map<string, { value: string | undefined; stages: string[] }>();
  rotationEnabled = true;

  constructor(initial: string) {
    this.versions.set("v1", { value: initial, stages: ["AWSCURRENT"] });
  }
  async describe() {
    return {
      rotationEnabled: this.rotationEnabled,
      versions: Object.fromEntries([...this.versions].map(([id, v]) => [id, [...v.stages]])),
    };
  }
  async getValue(_id: string, version: { versionId?: string; stage?: string }) {
    for (const [id, v] of this.versions) {
      if (version.versionId !== undefined && id !== version.versionId) continue;
      if (version.stage !== undefined && !v.stages.includes(version.stage)) continue;
      return v.value;
    }
    return undefined;
  }
  /** RotateSecret: Secrets Manager labels the new version id AWSPENDING before calling createSecret. */
  startRotation(versionId: string) {
    if (!this.versions.has(versionId))
      this.versions.set(versionId, { value: undefined, stages: ["AWSPENDING"] });
  }
  async putPending(_id: string, versionId: string, value: string) {
    this.versions.set(versionId, { value, stages: ["AWSPENDING"] });
  }
  /** UpdateSecretVersionStage(AWSCURRENT): like Secrets Manager, it leaves AWSPENDING where it is. */
  async promote(_id: string, versionId: string, from: string | undefined) {
    this.events.push("promote");
    this.moveCurrent(versionId, from);
  }
  async putCurrent(_id: string, versionId: string, value: string) {
    this.events.push("putCurrent");
    const existing = this.versions.get(versionId);
    if (existing !== undefined) {
      if (existing.value !== value) throw new Error("ResourceExistsException");
      return;
    }
    this.versions.set(versionId, { value, stages: [] });
    const from = [...this.versions].find(([, v]) => v.stages.includes("AWSCURRENT"))?.[0];
    this.moveCurrent(versionId, from);
  }
  async removePending(_id: string, versionId: string) {
    this.events.push("removePending");
    const version = this.versions.get(versionId)!;
    if (!version.stages.includes("AWSPENDING")) throw new Error("InvalidParameterException");
    version.stages = version.stages.filter((s) => s !== "AWSPENDING");
  }
  private moveCurrent(versionId: string, from: string | undefined) {
    if (from) {
      for (const v of this.versions.values()) v.stages = v.stages.filter((s) => s !== "AWSPREVIOUS");
      const old = this.versions.get(from)!;
      old.stages = old.stages.filter((s) => s !== "AWSCURRENT").concat("AWSPREVIOUS");
    }
    this.versions.get(versionId)!.stages.push("AWSCURRENT");
  }
  events: string[] = [];
  current(): string {
    return [...this.versions.values()].find((v) => v.stages.includes("AWSCURRENT"))!.value ?? "";
  }
}
