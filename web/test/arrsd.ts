// A real arrsd for the client's tests: built from this checkout, serving the
// demo data on free loopback ports, with a private data directory (and so
// its own PostgreSQL cluster and development signing key) that is removed
// afterwards.
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { chmod, mkdtemp, readlink, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);
const repo = resolve(import.meta.dirname, "..", "..");

export interface Arrsd {
  baseUrl: string;
  /** A development token for role in organisation org. */
  token(role: string, org?: string, subject?: string): Promise<string>;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.once("error", fail);
    s.listen(0, "127.0.0.1", () => {
      const addr = s.address();
      s.close(() => (typeof addr === "object" && addr ? ok(addr.port) : fail(new Error("no port"))));
    });
  });
}

/** Starts arrsd; extraEnv configures it further (an identity provider, say). */
export async function startArrsd(extraEnv: Record<string, string> = {}): Promise<Arrsd> {
  const dir = await mkdtemp(join(tmpdir(), "arrs-web-"));
  // The private cluster runs as the postgres user when this runs as root:
  // it must be able to reach its directory.
  await chmod(dir, 0o755);
  const bin = join(dir, "arrsd");
  await run("go", ["build", "-o", bin, "./cmd/arrsd"], { cwd: repo });
  const [grpc, http, metrics] = [await freePort(), await freePort(), await freePort()];
  const env = {
    ...process.env,
    DATABASE_URL: "",
    ARRS_DATA_DIR: join(dir, "data"),
    ARRS_GRPC_ADDR: `127.0.0.1:${grpc}`,
    ARRS_HTTP_ADDR: `127.0.0.1:${http}`,
    ARRS_METRICS_ADDR: `127.0.0.1:${metrics}`,
    ...extraEnv,
  };
  const log: string[] = [];
  const proc: ChildProcess = spawn(bin, ["serve", "--demo"], { env, stdio: ["ignore", "ignore", "pipe"] });
  proc.stderr?.on("data", (b: Buffer) => log.push(b.toString()));
  const exited = new Promise<number | null>((ok) => proc.once("exit", (code) => ok(code)));
  const baseUrl = `http://127.0.0.1:${http}`;

  const deadline = Date.now() + 120_000;
  for (;;) {
    if (proc.exitCode !== null) {
      throw new Error(`arrsd exited ${proc.exitCode}:\n${log.join("")}`);
    }
    try {
      const res = await fetch(`${baseUrl}/healthz`);
      if (res.ok && ((await res.json()) as { status?: string }).status === "SERVING") break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      proc.kill("SIGTERM");
      throw new Error(`arrsd did not become healthy:\n${log.join("")}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }

  return {
    baseUrl,
    async token(role, org = "", subject = "web-test") {
      const { stdout } = await run(bin, ["token", "--role", role, "--org", org, "--subject", subject], { env });
      return stdout.trim();
    },
    async stop() {
      // SIGTERM drains requests and stops the cluster arrsd started.
      proc.kill("SIGTERM");
      const timeout = setTimeout(() => proc.kill("SIGKILL"), 30_000);
      await exited;
      clearTimeout(timeout);
      // As root the cluster lives under /var/lib/arrs/<hash>/postgres and the
      // data directory only links to it: remove what the link names too.
      const cluster = await readlink(join(dir, "data", "postgres")).catch(() => "");
      if (cluster.startsWith("/var/lib/arrs/")) {
        await rm(dirname(cluster), { recursive: true, force: true });
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}
