// The command line: commander definitions of every subcommand and its flags (neon's names
// where the lab uses them: neon/util/argparser.py, docs/neon-notes.md). Each action returns an exit code.
import { availableParallelism } from 'node:os';
import { Command, InvalidArgumentError, Option } from 'commander';
import { availableBackends, backend, getNumThreads, registeredBackends, setNumThreads } from '../kernels/index.js';
import { announceGpu } from '../kernels/gpu/webgl/index.js';
import { announceWebgpu, chooseAuto } from '../kernels/gpu/webgpu/index.js';
import { BUILTIN_NAMES, type BuiltinName } from '../data/builtin.js';
import { PREPARE_DEFAULTS } from '../data/prepare/index.js';
import type { ChannelOrder } from '../data/image.js';
import { parsePreprocess } from '../data/preprocess.js';
import { evalCommand, exportCommand, inspectCommand, prepareCommand, summaryCommand } from './commands.js';
import { predictCommand } from './predict.js';
import type { ModelFlags } from './model-options.js';
import type { TrainingFlag } from './resume.js';
import { demo, DEMO_DEFAULTS } from './demo.js';
import { SCHEDULE_HELP } from './schedule-spec.js';
import { DEFAULT_SAVE_PATH, train } from './train.js';
import { packageInfo } from '../util/package.js';
import { DEFAULT_PORT, playgroundCommand } from '../playground/server.js';

const int = (name: string, min = 0) => (v: string): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`${name} must be an integer ≥ ${min}, got '${v}'`);
  return n;
};
const num = (name: string, min = -Infinity, exclusiveMin = false) => (v: string): number => {
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || n < min || (exclusiveMin && n === min)) {
    throw new InvalidArgumentError(`${name} must be a number ${exclusiveMin ? '>' : '≥'} ${min}, got '${v}'`);
  }
  return n;
};
const fraction = (name: string) => (v: string): number => {
  const n = num(name, 0, true)(v);
  if (n > 1) throw new InvalidArgumentError(`${name} must be in (0, 1], got '${v}'`);
  return n;
};

function modelOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('--model <name>', 'model: the lab\'s transfer model or the original VGG-16 head (fc6/fc7/fc8)').choices(['vgg16_transfer', 'vgg16']).default('vgg16_transfer'))
    .option('--width_mult <w>', 'scale every conv width (64·w … 512·w)', num('--width_mult', 0, true), 1)
    .option('--fc_size <n>', 'width of the two hidden dense layers', int('--fc_size', 1), 4096)
    .option('--dropout_keep <p>', 'fraction kept by the dropout layers', fraction('--dropout_keep'), 0.5);
}

/** The model flags typed on the command line (the others may come from a checkpoint's record). */
function explicitModelFlags(cmd: Command): Set<keyof ModelFlags> {
  return new Set(([['model', 'model'], ['width_mult', 'widthMult'], ['fc_size', 'fcSize'], ['dropout_keep', 'dropoutKeep']] as const)
    .filter(([opt]) => cmd.getOptionValueSource(opt) === 'cli').map(([, k]) => k));
}

/** The optimizer flags typed on the command line (the others may come from a checkpoint's record). */
function explicitTrainingFlags(cmd: Command): Set<TrainingFlag> {
  return new Set(([['lr', 'lr'], ['momentum', 'momentum'], ['wdecay', 'wdecay'], ['imported_lr_scale', 'importedLrScale']] as const)
    .filter(([opt]) => cmd.getOptionValueSource(opt) === 'cli').map(([, k]) => k));
}

const preprocessOption = (dflt: string) => new Option('--preprocess <name>', `input preprocessing: neon (0..255 minus the data's mean), caffe (BGR 0..255 minus the ImageNet mean; Keras weights), torchvision (RGB /255, ImageNet mean/std; PyTorch weights); default ${dflt}`).argParser(parsePreprocess);

/**
 * -b gpu, -b webgpu: start the backend now and say what runs it (a clear error, exit 1, when
 * it cannot start); -b auto: webgpu on a real GPU, else cpu, saying which and why. Returns
 * the backend's name.
 */
function startBackend(name: string): string {
  if (name === 'auto') return chooseAuto('cpu', (l) => console.log(l));
  if (name === 'gpu') announceGpu((l) => console.log(l), (l) => console.error(l));
  if (name === 'webgpu') announceWebgpu((l) => console.log(l), (l) => console.error(l));
  return name;
}

// The choices are the registered backends (src/kernels/index.ts), read when the program is
// built, so a new backend appears here by registering (test/cli/backend-option.test.ts), and auto.
const backendOption = () => new Option('-b, --backend <name>', `compute backend: ${registeredBackends().map((b) => `${b.name} (${b.description})`).join('; ')}; auto (webgpu on a real GPU, else cpu)`).choices([...availableBackends(), 'auto']).default(backend().name);

// --threads: how many threads the cpu backend computes on (main thread included).
// At most the machine's logical cores: more threads than cores only contend for them.
const threadsOption = () => {
  const cores = availableParallelism();
  return new Option('--threads <n>', `threads of the cpu backend, the main one included (1 to ${cores}, the logical cores of this machine)`)
    .argParser((v: string) => {
      const n = int('--threads', 1)(v);
      if (n > cores) throw new InvalidArgumentError(`--threads must be between 1 and ${cores} (the logical cores of this machine), got '${v}'`);
      return n;
    })
    .default(getNumThreads(), `${getNumThreads()}: the number of cores`);
};
/** Applies --threads before the command runs. */
const threaded = <T>(o: { threads: number; backend?: string }, f: () => T): T => {
  setNumThreads(o.threads);
  if (o.backend) o.backend = startBackend(o.backend);
  return f();
};

/** The version in tl-scratch's package.json; a broken install still runs every other command. */
function version(): string {
  try {
    return packageInfo().version;
  } catch (e) {
    return `unknown (${(e as Error).message})`;
  }
}

export function buildProgram(run: (code: Promise<number> | number) => void): Command {
  const program = new Command('tl-scratch')
    .description('Transfer learning with VGG-16, as in the neon lab, on an engine written from scratch in TypeScript')
    .version(version())
    .showHelpAfterError('(run with --help for usage)');

  modelOptions(program.command('train')
    .description('train the model (the lab\'s main_transfer.py): import matching layers from --source_model, fit, test, write the inference file')
    .addOption(backendOption())
    .option('-e, --epochs <n>', 'number of epochs', int('--epochs', 1), 10)
    .option('-z, --batch_size <n>', 'minibatch size', int('--batch_size', 1), 32)
    .option('-r, --rng_seed <n>', 'seed of the random generator (initialization, dropout, --train_per_class)', int('--rng_seed'), 0)
    .option('--data_root <dir>', 'folder with train.h5 and test.h5 (neon HDF5 format; see prepare), or builtin:NAME, or a folder of class folders of images (DIR/<class>/*.jpg|png: prepared once into DIR/.tl-cache, reused while the folder is unchanged)', './data_wiki')
    .option('--image_size <n>', `image folder --data_root: height = width of the prepared images (default ${PREPARE_DEFAULTS.size})`, int('--image_size', 1))
    .addOption(new Option('--channels <order>', `image folder --data_root: channel order (default ${PREPARE_DEFAULTS.channels})`).choices(['rgb', 'bgr', 'gray']))
    .option('--source_model <file>', 'pretrained weights to import by layer name (neon .p/.prm, Keras .h5, PyTorch .pth, safetensors, checkpoint); --width_mult and --fc_size default to its own')
    .option('--serialize <n>', `save a checkpoint every N epochs (to --save_path, else to ${DEFAULT_SAVE_PATH} in the working directory, with a warning, as neon)`, int('--serialize'), 0)
    .option('-s, --save_path <file>', 'checkpoint file (HDF5); without --serialize, one every epoch (--serialize 1, with a warning, as neon)')
    .option('--no_save_states', 'checkpoints without optimizer states (half the size; resuming restarts the momentum)')
    .option('--model_file <file>', 'resume from a checkpoint alone: the model flags, --experiment, the imported layers\' learning rates, --lr/--momentum/--wdecay, the preprocessing and the data mean it records are used (typed flags win; model flags must agree); or initialize the whole model from an importable weight file')
    .option('-o, --output_file <file>', 'HDF5 log of costs, metrics and times (neon\'s format)')
    .option('--eval_freq <n>', 'evaluate loss and accuracy on the test set every N epochs (0: never; default 0, and with --experiment all every epoch, or every epochs/5 on test sets over 10,000 examples, for the report\'s curves)', int('--eval_freq'))
    .option('--no_progress_bar', 'no progress bar')
    .option('-v, --verbose', 'more output; stack traces on errors', (_v: string, prev: number) => prev + 1, 0)
    .addOption(new Option('--experiment <name>', 'scratch | finetune | extract | all (default: finetune with --source_model, else scratch)').choices(['scratch', 'finetune', 'extract', 'all']))
    .option('--lr <rate>', 'base learning rate (new layers; all layers for scratch)', num('--lr', 0), 0.001)
    .option('--schedule <spec>', SCHEDULE_HELP)
    .option('--momentum <mu>', 'momentum coefficient', num('--momentum', 0), 0.9)
    .option('--wdecay <w>', 'weight decay (L2)', num('--wdecay', 0), 0.0005)
    .option('--imported_lr_scale <s>', 'learning-rate factor of imported layers (default 0.001 finetune, 0 extract, 1 scratch)', num('--imported_lr_scale', 0))
    .option('--inference_file <file>', 'where to write the test outputs', 'inference.txt')
    .addOption(threadsOption())
    .addOption(new Option('--match <how>', 'pair source and model layers by name or by order').choices(['name', 'order']).default('name'))
    .addOption(new Option('--mismatch <how>', 'a source layer whose shape differs from the model\'s: stop with what to change (error), or leave that layer at its initialization and train it as a new layer (skip); listed in the import report').choices(['error', 'skip']).default('error'))
    .option('--train_per_class <n>', 'train on N labelled images per class (chosen with --rng_seed)', int('--train_per_class', 1))
    .option('--report_dir <dir>', 'report folder of --experiment all', 'report')
    .option('--no_feature_cache', 'recompute the frozen layers every epoch instead of caching their outputs (same results, slower)')
    .option('--no_prefetch', 'read each HDF5 training minibatch when it is needed, instead of reading the next one on a worker thread while the current one computes (same batches either way)')
    .option('--profile', 'time every training step by layer and pass (fprop, bprop data, bprop weights, update) and print the table after training; on several threads also the share of the step with all of them computing, per row and in all')
    .addOption(preprocessOption('from the weight file the model starts from (--model_file, else --source_model; none: neon)')))
    .action((o, cmd: Command) => run(threaded(o, () => train({
      backend: o.backend, epochs: o.epochs, batchSize: o.batch_size, rngSeed: o.rng_seed, dataRoot: o.data_root,
      sourceModel: o.source_model, serialize: o.serialize, savePath: o.save_path, modelFile: o.model_file,
      outputFile: o.output_file, evalFreq: o.eval_freq, progressBar: !o.no_progress_bar, verbose: o.verbose, saveStates: !o.no_save_states,
      experiment: o.experiment, lr: o.lr, momentum: o.momentum, wdecay: o.wdecay, importedLrScale: o.imported_lr_scale,
      inferenceFile: o.inference_file, match: o.match, trainPerClass: o.train_per_class, reportDir: o.report_dir,
      model: o.model, widthMult: o.width_mult, fcSize: o.fc_size, dropoutKeep: o.dropout_keep, schedule: o.schedule, preprocess: o.preprocess,
      featureCache: !o.no_feature_cache, prefetch: !o.no_prefetch, explicit: explicitModelFlags(cmd), explicitTraining: explicitTrainingFlags(cmd), profile: o.profile === true,
      mismatch: o.mismatch, imageSize: o.image_size, channels: o.channels as ChannelOrder | undefined,
    }))));

  modelOptions(program.command('eval')
    .description('test accuracy and the inference file for a checkpoint or any weight file holding the whole model')
    .addOption(backendOption())
    .requiredOption('--model_file <file>', 'checkpoint (from train: the model flags and the data mean it records are used unless given here) or importable weight file')
    .option('--data_root <dir>', 'folder with test.h5 (train.h5 is not needed), or builtin:NAME', './data_wiki')
    .option('-z, --batch_size <n>', 'minibatch size', int('--batch_size', 1), 32)
    .option('--inference_file <file>', 'where to write the test outputs', 'inference.txt')
    .addOption(new Option('--match <how>', 'pair file and model layers by name or by order').choices(['name', 'order']).default('name'))
    .addOption(threadsOption())
    .option('--no_progress_bar', 'no progress of the test pass')
    .addOption(preprocessOption('as the checkpoint records, else from the weight file\'s format'))
    .option('-v, --verbose', 'stack traces on errors', (_v: string, prev: number) => prev + 1, 0))
    .action((o, cmd: Command) => run(threaded(o, () => evalCommand({
      backend: o.backend, modelFile: o.model_file, dataRoot: o.data_root, batchSize: o.batch_size, inferenceFile: o.inference_file,
      match: o.match, model: o.model, widthMult: o.width_mult, fcSize: o.fc_size, dropoutKeep: o.dropout_keep, progressBar: !o.no_progress_bar, preprocess: o.preprocess,
      explicit: explicitModelFlags(cmd),
    }))));

  modelOptions(program.command('predict')
    .description('class probabilities for JPEG/PNG images (files or folders), prepared as `prepare` does and preprocessed as the checkpoint\'s model was trained')
    .argument('<images...>', 'image files and/or folders of them (walked recursively)')
    .addOption(backendOption())
    .requiredOption('--model_file <file>', 'checkpoint written by train (--save_path)')
    .option('-o, --output <file>', 'write the predictions as CSV or JSON (by the extension) instead of printing a table')
    .option('--data_root <dir>', 'folder with the train.h5 the model was trained on (class names, mean) for checkpoints that do not record them')
    .option('-z, --batch_size <n>', 'minibatch size', int('--batch_size', 1), 32)
    .addOption(preprocessOption('as the checkpoint records (neon for older checkpoints)'))
    .option('-v, --verbose', 'stack traces on errors', (_v: string, prev: number) => prev + 1, 0))
    .addOption(threadsOption())
    .action((images: string[], o, cmd: Command) => run(threaded(o, () => predictCommand({
      backend: o.backend, inputs: images, modelFile: o.model_file, outputFile: o.output, dataRoot: o.data_root, batchSize: o.batch_size, preprocess: o.preprocess,
      model: o.model, widthMult: o.width_mult, fcSize: o.fc_size, dropoutKeep: o.dropout_keep,
      explicit: explicitModelFlags(cmd),
    }))));

  modelOptions(program.command('summary')
    .description('per-layer table of the model: output shape, parameters, forward MFLOPs')
    .option('--image_size <n>', 'input height = width', int('--image_size', 1), 224)
    .option('--channels <n>', 'input channels', int('--channels', 1), 3)
    .option('--nclass <n>', 'number of classes', int('--nclass', 1), 2)
    .option('-z, --batch_size <n>', 'minibatch size (for the per-batch totals)', int('--batch_size', 1), 32))
    .action((o) => run(summaryCommand({ imageSize: o.image_size, channels: o.channels, nclass: o.nclass, batchSize: o.batch_size, model: o.model, widthMult: o.width_mult, fcSize: o.fc_size, dropoutKeep: o.dropout_keep })));

  modelOptions(program.command('export')
    .description('write a model for other frameworks: safetensors (PyTorch; torchvision\'s names for VGG-16) or ONNX (onnxruntime)')
    .requiredOption('--model_file <file>', 'checkpoint (rebuilt from the layers it stores), or any importable weight file with the model flags below')
    .option('--format <format>', 'safetensors or onnx (default: from --out\'s extension, .safetensors or .onnx)')
    .requiredOption('--out <file>', 'file to write (atomically: nothing is left behind on error)')
    .option('--image_size <n>', 'input height = width, for weight files other than checkpoints (default: from the weights of the first dense layer when they say it, else 224)', int('--image_size', 1), 224)
    .option('--channels <n>', 'input channels, for weight files other than checkpoints', int('--channels', 1), 3)
    .option('--nclass <n>', 'number of classes, for weight files other than checkpoints', int('--nclass', 1), 2)
    .option('-v, --verbose', 'stack traces on errors', (_v: string, prev: number) => prev + 1, 0))
    .action((o, cmd: Command) => run(exportCommand({
      modelFile: o.model_file, format: o.format, out: o.out, imageSize: o.image_size, imageSizeGiven: cmd.getOptionValueSource('image_size') === 'cli', channels: o.channels, nclass: o.nclass,
      model: o.model, widthMult: o.width_mult, fcSize: o.fc_size, dropoutKeep: o.dropout_keep,
    })));

  program.command('inspect')
    .description('list the arrays of a weight file and what each maps to in the VGG-16 models')
    .argument('<file>', 'neon pickle, Keras .h5, PyTorch .pth, safetensors or tl-scratch checkpoint')
    .option('-v, --verbose', 'stack traces on errors', (_v: string, prev: number) => prev + 1, 0)
    .action((file: string) => run(inspectCommand(file)));

  program.command('prepare')
    .description('write train.h5 and test.h5 in neon\'s HDF5 format from an image folder, IMDB-WIKI or a built-in set (a stopped run, run again with the same options, continues where it stopped)')
    .requiredOption('--out <dir>', 'output folder')
    .option('--image_folder <dir>', 'images in ROOT/<class>/*.{jpg,jpeg,png}')
    .option('--imdb_wiki <dir>', 'IMDB-WIKI folder with wiki.mat or imdb.mat')
    .addOption(new Option('--builtin <name>', 'a built-in data set').choices([...BUILTIN_NAMES]))
    .option('--size <n>', `output height = width (default ${PREPARE_DEFAULTS.size}; builtin ${PREPARE_DEFAULTS.builtinSize})`, int('--size', 1))
    .addOption(new Option('--channels <order>', `channel order (default ${PREPARE_DEFAULTS.channels}; builtin ${PREPARE_DEFAULTS.builtinChannels})`).choices(['rgb', 'bgr', 'gray']))
    .option('-r, --rng_seed <n>', 'seed of the shuffle and split', int('--rng_seed'), PREPARE_DEFAULTS.rngSeed)
    .option('--test_fraction <f>', 'fraction of each class written to test.h5', num('--test_fraction', 0), PREPARE_DEFAULTS.testFraction)
    .option('--min_face_score <s>', 'IMDB-WIKI: keep faces scored above this', num('--min_face_score'), PREPARE_DEFAULTS.minFaceScore)
    .option('--max_images <n>', 'keep at most N images', int('--max_images', 1))
    .option('--per_class <n>', 'builtin: N training images per class', int('--per_class', 1))
    .option('--workers <n>', `worker threads decoding and resizing images (default: the number of cores, ${availableParallelism()} here)`, int('--workers', 1))
    .option('--no_progress_bar', 'no progress bar')
    .option('-v, --verbose', 'stack traces on errors', (_v: string, prev: number) => prev + 1, 0)
    .action((o) => run(prepareCommand({
      out: o.out, imageFolder: o.image_folder, imdbWiki: o.imdb_wiki, builtin: o.builtin as BuiltinName | undefined, size: o.size,
      channels: o.channels as ChannelOrder | undefined, rngSeed: o.rng_seed, testFraction: o.test_fraction, minFaceScore: o.min_face_score,
      maxImages: o.max_images, perClass: o.per_class, workers: o.workers,
    }, !o.no_progress_bar)));

  program.command('demo')
    .description("the whole lab offline: a VGG-16 pretrained on Fashion-MNIST's eight other classes, transferred to T-shirt/top vs Shirt in three experiments")
    .option('--train_per_class <n>', 'labelled target images per class', int('--train_per_class', 1), DEMO_DEFAULTS.trainPerClass)
    .option('--seeds <n>', 'repeat each experiment with seeds 0..N-1', int('--seeds', 1), DEMO_DEFAULTS.seeds)
    .option('-e, --epochs <n>', 'epochs per experiment', int('--epochs', 1), DEMO_DEFAULTS.epochs)
    .option('--lr <rate>', 'base learning rate (new layers; every layer for scratch); imported layers ×0.001 (finetune) or ×0 (extract)', num('--lr', 0, true), DEMO_DEFAULTS.lr)
    .option('--eval_every <n>', 'evaluate test accuracy before training and every N epochs for the curves (0: only at the end)', int('--eval_every'), DEMO_DEFAULTS.evalEvery)
    .option('--report_dir <dir>', 'report folder', 'report')
    .option('--source_model <file>', 'source checkpoint (default: the one shipped in models/)')
    .addOption(backendOption())
    .addOption(threadsOption())
    .option('-v, --verbose', 'stack traces on errors', (_v: string, prev: number) => prev + 1, 0)
    .action((o) => run(threaded(o, () => demo({ trainPerClass: o.train_per_class, seeds: o.seeds, epochs: o.epochs, lr: o.lr, evalEvery: o.eval_every, reportDir: o.report_dir, sourceModel: o.source_model, backend: o.backend }))));

  program.command('playground')
    .description('serve the browser playground on 127.0.0.1: the demo\'s three experiments with live curves, the import report, feature maps and one training step opened up (nothing loaded from other hosts)')
    .option('--port <n>', 'port on 127.0.0.1 (0: any free port)', int('--port', 0), DEFAULT_PORT)
    .option('--no-open', 'only print the address; do not open a browser')
    .option('-v, --verbose', 'stack traces on errors', (_v: string, prev: number) => prev + 1, 0)
    .action((o) => run(playgroundCommand({ port: o.port, open: o.open })));

  return program;
}
