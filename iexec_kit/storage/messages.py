"""Every user-facing string of the storage layer, in one place (STYLE.md rule 7)."""

# --- protobuf / UnixFS ----------------------------------------------------------------------
PB_NEGATIVE = "A protobuf varint cannot be negative."
PB_TRUNCATED = "A dag-pb block is truncated or malformed."
PB_WIRE = "A dag-pb block uses a protobuf wire type that dag-pb never uses."
PB_UNKNOWN_FIELD = "A dag-pb block carries a field that dag-pb and UnixFS do not define."
PB_NAME_UTF8 = "A dag-pb link name is not valid UTF-8."
PB_LINK_NO_HASH = "A dag-pb link has no Hash."
UNIXFS_TYPE = "A UnixFS node has an unknown Type."
UNIXFS_NO_TYPE = "A UnixFS node has no Type."
UNIXFS_NOT_FILE = "This CID is not a file."
UNIXFS_NOT_DIR = "This CID is not a directory."
UNIXFS_NO_DATA = "This dag-pb node carries no UnixFS data."
UNIXFS_UNSUPPORTED = "This UnixFS node kind is not supported by the kit's node."
UNIXFS_HAMT = (
    "This directory is too large for one block; Kubo would shard it (HAMT), the kit does not."
)
UNIXFS_BAD_NAME = "A directory entry name is not allowed."
DAG_BUDGET = "This DAG is too large or too slow to walk; the node stopped."
UPLOAD_MALFORMED = "The multipart upload is malformed or conflicting; nothing was added."
UNIXFS_NO_SUCH_LINK = "No entry of this name in the directory."

# --- CIDs and blocks ------------------------------------------------------------------------
CID_INVALID = "This is not a CID."
CID_HASH = "The kit's node stores sha2-256 blocks only."
CID_CODEC = "The kit's node reads dag-pb and raw blocks only."
CID_VERSION = "cid_version must be 0 or 1."
BLOCK_MISSING = "This block is not in the node's blockstore."
BLOCK_CORRUPT = "A block on disk does not hash to its CID; it is corrupted and will not be served."
HINT_CORRUPT = "delete the repo's block file (or the repo) and add the content again"
HINT_MISSING = "add the content to this node first (ipfs add), or check the CID"
HINT_CID = "pass a CIDv0 (Qm..., 46 characters) or a CIDv1 (bafy.../bafk...) string"
READ_RANGE = "offset and length must be non-negative."

# --- paths ----------------------------------------------------------------------------------
PATH_ESCAPE = "A path leaves the folder it must stay in (absolute path or '..')."
HINT_PATH = "use relative names without '..'; never extract untrusted archives by hand"
GET_EXISTS = "The download destination already exists; get never overwrites it by default."
HINT_GET_EXISTS = "pass --force (force=True) to replace it, or choose another -o destination"
GET_BAD_DEST = "The download destination must name a file or folder to create."

# --- node / API -----------------------------------------------------------------------------
NODE_PATH_MISSING = "Nothing to add at this path."
API_UNREACHABLE = "The IPFS API does not answer."
HINT_API = "start it with `iexec-kit ipfs daemon`, or check the address (IEXEC_KIT_IPFS_API)"
API_ERROR = "The IPFS API refused the call."
API_TIMEOUT = "The IPFS API did not answer in time."
HINT_TIMEOUT = (
    "a daemon that looks for a missing block on the network waits for a peer (js-ipfs does, "
    "even with --offline): check the CID, or pass a larger timeout= for very large files"
)
API_NO_FILE = "The add call carried no file part."
API_ARG = "The call needs an arg (a CID or /ipfs/ path)."
SERVER_START = "The HTTP server did not start."
HINT_PORT = "choose another port, or pass port=0 for a free one"
DAEMON_READY = (
    "IPFS API server listening on {api}\nGateway server listening on {gateway}\n"
    "Repo: {repo}\nDaemon is ready (Ctrl-C to stop)"
)

# --- results --------------------------------------------------------------------------------
COMPUTED_MISSING = "The app wrote no computed.json in its output folder."
HINT_COMPUTED = (
    "the app must write $IEXEC_OUT/computed.json, e.g. "
    '{"deterministic-output-path": "/iexec_out/result.txt"}'
)
COMPUTED_BAD_JSON = "computed.json is not a JSON object."
COMPUTED_NO_KEY = 'computed.json has neither "deterministic-output-path" nor "callback-data".'
COMPUTED_BAD_PATH = "computed.json's deterministic-output-path does not exist in the output folder."
COMPUTED_BAD_CALLBACK = 'computed.json\'s "callback-data" must be a 0x-prefixed hex string.'
ZIP_BAD = "The result archive is not a readable zip."
ZIP_TOO_BIG = "The archive unpacks to more bytes than allowed."

# --- encryption -----------------------------------------------------------------------------
KEY_MISSING = "The beneficiary key file is missing."
HINT_KEYS = "create the pair with generate_beneficiary_keys(folder)"
DECRYPT_FAILED = "The result cannot be decrypted with this private key."
HINT_DECRYPT = "use the beneficiary's private key, the one whose public key the task used"
ENCRYPTED_LAYOUT = "This is not an encrypted iExec result (aes-key.rsa + iexec_out.zip.aes)."

# --- result proxy ---------------------------------------------------------------------------
CHALLENGE_UNKNOWN = "This challenge was not issued by the proxy, was already used, or has expired."
HINT_CHALLENGE = "ask for a fresh challenge (GET /results/challenge) and sign it once"
SIGNATURE_BAD = "The challenge signature does not recover to an address."
TOKEN_MISSING = "No token: send the Authorization header."
TOKEN_BAD = "The token is invalid, expired or was not issued by this proxy."
HINT_TOKEN = "log in again: sign a fresh challenge (storage init)"
UPLOAD_NOT_REVEALING = "The task is not REVEALING on chain."
UPLOAD_NOT_REVEALED = "This worker has not revealed its contribution for the task."
UPLOAD_HASH = (
    "The result hash recomputed from the upload does not match the worker's on-chain resultHash."
)
UPLOAD_SIGNATURE = "The worker's upload signature does not match the worker address."
UPLOAD_NOT_REQUESTER = "The token does not belong to the task's requester."
UPLOAD_TOO_BIG = "The upload is larger than the proxy accepts."
UPLOAD_DUPLICATE = "A result for this task was already uploaded."
UPLOAD_UNKNOWN_TASK = "The chain knows no such task."
RESULT_NOT_FOUND = "The proxy holds no result for this task."
RESULT_NOT_BENEFICIARY = "Private results are served only to the task's beneficiary."
PIN_NOT_PINNED = "This CID is not pinned."
API_BAD_ARG = "An API argument has the wrong form."
API_ORIGIN = "The IPFS API refuses calls from this web origin (cross-site request)."
HINT_ORIGIN = (
    "call it from the API's own origin, or allow the origin: "
    "IpfsDaemon(allowed_origins=[...]), --allow-origin or $IEXEC_KIT_IPFS_ALLOWED_ORIGINS"
)

# --- SMS (secret management service) ----------------------------------------------------------
SMS_UNAUTHORIZED = "The secret's owner did not sign this secret: nothing was stored."
HINT_SMS_SIGN = (
    "sign the challenge keccak256(keccak256('IEXEC_SMS_DOMAIN') ++ owner ++ keccak256(name) ++ "
    "keccak256(value)) with the owner's wallet (EIP-191), e.g. `iexec storage init`"
)
SMS_EXISTS = "This owner already has a secret of this name; a POST never replaces one."
HINT_SMS_UPDATE = "update it with PUT /secrets/web2 (the SDK's forceUpdate / --force-update)"
SMS_NOT_FOUND = "This owner has no secret of this name."
HINT_SMS_PUSH = "push it first (POST /secrets/web2)"
SMS_TOO_LARGE = "The secret is larger than the SMS accepts."
SMS_MISSING_AUTH = "No signature: send the Authorization header."
SMS_NO_TOKEN = (
    "The requester {owner} pushed no result-proxy token to the SMS, "
    "so no worker can upload its result."
)
HINT_SMS_TOKEN = (
    "as the requester, run storage init: `iexec storage init`, or storage.storage_init(key)"
)
SMS_NO_KEY = "The beneficiary {owner} pushed no result encryption key to the SMS."
HINT_SMS_KEY = "as the beneficiary, run `iexec result push-encryption-key`"
SMS_WORKER_NAME = "Workers may read only the storage token and encryption key of a task."
SMS_WORKER_TASK = "The chain knows no such task."
SMS_WORKER_STATUS = "The task is not running (ACTIVE or REVEALING): no secret is handed out."
SMS_WORKER_NOT_CONTRIBUTOR = "This worker has not contributed to the task."
SMS_WORKER_SIGNATURE = "The worker's signature does not recover to the worker."
