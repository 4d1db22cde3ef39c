/** Checkpoints (safetensors + config.json + tokenizer + sha256 manifest). */
export {
  saveCheckpoint, loadCheckpoint, verifyCheckpoint, readManifest, MANIFEST_FORMAT,
  CheckpointMissingError, CheckpointShapeError, CheckpointArchitectureError, CorruptArtifactError,
} from './checkpoint';
export type { CheckpointManifest, CheckpointContents, OptimizerState, LoadOptions, ManifestEntry } from './checkpoint';
export { encodeSafetensors, decodeSafetensors, SafetensorsFormatError } from './safetensors';
export type { SafeTensor, SafeDtype } from './safetensors';
