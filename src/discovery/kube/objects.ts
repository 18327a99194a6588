/**
 * The parts of Kubernetes and Agones API objects discovery reads, as the API serves them in
 * JSON. Every field is optional: objects come from the network and are checked where read.
 */

/** `metadata` of any object. */
export interface ObjectMeta {
  /** Object name. */
  readonly name?: string;
  /** Namespace (absent for cluster-scoped objects). */
  readonly namespace?: string;
  /** Version for list-then-watch. */
  readonly resourceVersion?: string;
  /** Labels. */
  readonly labels?: Readonly<Record<string, string>>;
  /** Annotations. */
  readonly annotations?: Readonly<Record<string, string>>;
}

/** A `v1` Pod. */
export interface Pod {
  /** Name, namespace, labels, annotations. */
  readonly metadata?: ObjectMeta;
  /** Node and declared container ports. */
  readonly spec?: {
    /** The node the pod runs on (meta `k8s.node`). */
    readonly nodeName?: string;
    /** Containers; only their ports are read. */
    readonly containers?: ReadonlyArray<{
      /** Declared ports. */
      readonly ports?: ReadonlyArray<{ readonly name?: string; readonly containerPort?: number }>;
    }>;
  };
  /** Phase, IP and conditions. */
  readonly status?: {
    /** `Pending`, `Running`, `Succeeded`, `Failed`, `Unknown`. */
    readonly phase?: string;
    /** The pod's IP: the backend host. */
    readonly podIP?: string;
    /** Conditions; `Ready` is read. */
    readonly conditions?: ReadonlyArray<{ readonly type?: string; readonly status?: string }>;
  };
}

/** A `discovery.k8s.io/v1` EndpointSlice. */
export interface EndpointSlice {
  /** Name, namespace, labels (incl. `kubernetes.io/service-name`), annotations. */
  readonly metadata?: ObjectMeta;
  /** Ports shared by every endpoint of the slice. */
  readonly ports?: ReadonlyArray<{ readonly name?: string | null; readonly port?: number | null }>;
  /** Endpoints: addresses and readiness. */
  readonly endpoints?: ReadonlyArray<{
    /** Addresses of one endpoint (usually one). */
    readonly addresses?: readonly string[];
    /** `ready: null` means unknown and counts as ready. */
    readonly conditions?: { readonly ready?: boolean | null };
  }>;
}

/** An `agones.dev/v1` GameServer. */
export interface GameServer {
  /** Name, namespace, labels, annotations. */
  readonly metadata?: ObjectMeta;
  /** State, address, ports, counters and lists. */
  readonly status?: GameServerStatus;
}

/** `status` of a GameServer (a GameServerAllocation's `status` has the same address fields). */
export interface GameServerStatus {
  /** `Ready`, `Allocated`, `Reserved`, `Shutdown`, … */
  readonly state?: string;
  /** GameServerAllocation only: the allocated GameServer's name. */
  readonly gameServerName?: string;
  /** The primary address. */
  readonly address?: string;
  /** All addresses by type (`ExternalIP`, `InternalIP`, `Hostname`, …). */
  readonly addresses?: ReadonlyArray<{ readonly type?: string; readonly address?: string }>;
  /** Exposed ports by name. */
  readonly ports?: ReadonlyArray<{ readonly name?: string; readonly port?: number | string }>;
  /** Agones counters (`players`, …). */
  readonly counters?: Readonly<
    Record<string, { readonly count?: number; readonly capacity?: number }>
  >;
  /** Agones lists (`players`, `rooms`, …). */
  readonly lists?: Readonly<
    Record<string, { readonly values?: readonly unknown[]; readonly capacity?: number }>
  >;
}
