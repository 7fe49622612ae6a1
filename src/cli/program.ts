// The command line: commander definitions of every subcommand and its flags (neon's names
// where the lab uses them: neon/util/argparser.py, docs/neon-notes.md). Each action returns an exit code.
import { Command, InvalidArgumentError, Option } from 'commander';
import { availableBackends, backend, registeredBackends } from '../kernels/index.js';
import { BUILTIN_NAMES, type BuiltinName } from '../data/builtin.js';
import { PREPARE_DEFAULTS } from '../data/prepare.js';
import type { ChannelOrder } from '../data/image.js';
import { evalCommand, inspectCommand, prepareCommand, summaryCommand } from './commands.js';
import { demo } from './demo.js';
import { SCHEDULE_HELP } from './schedule-spec.js';
import { DEFAULT_SAVE_PATH, train } from './train.js';

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

// The choices are the registered backends (src/kernels/index.ts), so a new backend appears here by registering.
const backendOption = () => new Option('-b, --backend <name>', `compute backend: ${registeredBackends().map((b) => `${b.name} (${b.description})`).join('; ')}`).choices(availableBackends()).default(backend().name);

export function buildProgram(run: (code: Promise<number> | number) => void): Command {
  const program = new Command('tl-scratch')
    .description('Transfer learning with VGG-16, as in the neon lab, on an engine written from scratch in TypeScript')
    .version('0.1.0')
    .showHelpAfterError('(run with --help for usage)');

  modelOptions(program.command('train')
    .description('train the model (the lab\'s main_transfer.py): import matching layers from --source_model, fit, test, write the inference file')
    .addOption(backendOption())
    .option('-e, --epochs <n>', 'number of epochs', int('--epochs', 1), 10)
    .option('-z, --batch_size <n>', 'minibatch size', int('--batch_size', 1), 32)
    .option('-r, --rng_seed <n>', 'seed of the random generator (initialization, dropout, --train_per_class)', int('--rng_seed'), 0)
    .option('--data_root <dir>', 'folder with train.h5 and test.h5 (neon HDF5 format; see prepare), or builtin:NAME', './data_wiki')
    .option('--source_model <file>', 'pretrained weights to import by layer name (neon .p/.prm, Keras .h5, PyTorch .pth, safetensors, checkpoint)')
    .option('--serialize <n>', `save a checkpoint every N epochs (to --save_path, else to ${DEFAULT_SAVE_PATH} in the working directory, with a warning, as neon)`, int('--serialize'), 0)
    .option('-s, --save_path <file>', 'checkpoint file (HDF5); without --serialize, one every epoch (--serialize 1, with a warning, as neon)')
    .option('--no_save_states', 'checkpoints without optimizer states (half the size; resuming restarts the momentum)')
    .option('--model_file <file>', 'resume from a checkpoint, or initialize the whole model from an importable weight file')
    .option('-o, --output_file <file>', 'HDF5 log of costs, metrics and times (neon\'s format)')
    .option('--eval_freq <n>', 'evaluate loss and accuracy on the test set every N epochs (0: never)', int('--eval_freq'), 0)
    .option('--no_progress_bar', 'no progress bar')
    .option('-v, --verbose', 'more output; stack traces on errors', (_v: string, prev: number) => prev + 1, 0)
    .addOption(new Option('--experiment <name>', 'scratch | finetune | extract | all (default: finetune with --source_model, else scratch)').choices(['scratch', 'finetune', 'extract', 'all']))
    .option('--lr <rate>', 'base learning rate (new layers; all layers for scratch)', num('--lr', 0), 0.001)
    .option('--schedule <spec>', SCHEDULE_HELP)
    .option('--momentum <mu>', 'momentum coefficient', num('--momentum', 0), 0.9)
    .option('--wdecay <w>', 'weight decay (L2)', num('--wdecay', 0), 0.0005)
    .option('--imported_lr_scale <s>', 'learning-rate factor of imported layers (default 0.001 finetune, 0 extract, 1 scratch)', num('--imported_lr_scale', 0))
    .option('--inference_file <file>', 'where to write the test outputs', 'inference.txt')
    .addOption(new Option('--match <how>', 'pair source and model layers by name or by order').choices(['name', 'order']).default('name'))
    .option('--train_per_class <n>', 'train on N labelled images per class (chosen with --rng_seed)', int('--train_per_class', 1))
    .option('--report_dir <dir>', 'report folder of --experiment all', 'report'))
    .action((o) => run(train({
      backend: o.backend, epochs: o.epochs, batchSize: o.batch_size, rngSeed: o.rng_seed, dataRoot: o.data_root,
      sourceModel: o.source_model, serialize: o.serialize, savePath: o.save_path, modelFile: o.model_file,
      outputFile: o.output_file, evalFreq: o.eval_freq, progressBar: !o.no_progress_bar, verbose: o.verbose, saveStates: !o.no_save_states,
      experiment: o.experiment, lr: o.lr, momentum: o.momentum, wdecay: o.wdecay, importedLrScale: o.imported_lr_scale,
      inferenceFile: o.inference_file, match: o.match, trainPerClass: o.train_per_class, reportDir: o.report_dir,
      model: o.model, widthMult: o.width_mult, fcSize: o.fc_size, dropoutKeep: o.dropout_keep, schedule: o.schedule,
    })));

  modelOptions(program.command('eval')
    .description('test accuracy and the inference file for a checkpoint or any weight file holding the whole model')
    .addOption(backendOption())
    .requiredOption('--model_file <file>', 'checkpoint (from train) or importable weight file')
    .option('--data_root <dir>', 'folder with test.h5 (train.h5 is not needed), or builtin:NAME', './data_wiki')
    .option('-z, --batch_size <n>', 'minibatch size', int('--batch_size', 1), 32)
    .option('--inference_file <file>', 'where to write the test outputs', 'inference.txt')
    .addOption(new Option('--match <how>', 'pair file and model layers by name or by order').choices(['name', 'order']).default('name'))
    .option('--no_progress_bar', 'no progress of the test pass')
    .option('-v, --verbose', 'stack traces on errors', (_v: string, prev: number) => prev + 1, 0))
    .action((o) => run(evalCommand({
      backend: o.backend, modelFile: o.model_file, dataRoot: o.data_root, batchSize: o.batch_size, inferenceFile: o.inference_file,
      match: o.match, model: o.model, widthMult: o.width_mult, fcSize: o.fc_size, dropoutKeep: o.dropout_keep, progressBar: !o.no_progress_bar,
    })));

  modelOptions(program.command('summary')
    .description('per-layer table of the model: output shape, parameters, forward MFLOPs')
    .option('--image_size <n>', 'input height = width', int('--image_size', 1), 224)
    .option('--channels <n>', 'input channels', int('--channels', 1), 3)
    .option('--nclass <n>', 'number of classes', int('--nclass', 1), 2)
    .option('-z, --batch_size <n>', 'minibatch size (for the per-batch totals)', int('--batch_size', 1), 32))
    .action((o) => run(summaryCommand({ imageSize: o.image_size, channels: o.channels, nclass: o.nclass, batchSize: o.batch_size, model: o.model, widthMult: o.width_mult, fcSize: o.fc_size, dropoutKeep: o.dropout_keep })));

  program.command('inspect')
    .description('list the arrays of a weight file and what each maps to in the VGG-16 models')
    .argument('<file>', 'neon pickle, Keras .h5, PyTorch .pth, safetensors or tl-scratch checkpoint')
    .option('-v, --verbose', 'stack traces on errors', (_v: string, prev: number) => prev + 1, 0)
    .action((file: string) => run(inspectCommand(file)));

  program.command('prepare')
    .description('write train.h5 and test.h5 in neon\'s HDF5 format from an image folder, IMDB-WIKI or a built-in set')
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
    .option('--no_progress_bar', 'no progress bar')
    .option('-v, --verbose', 'stack traces on errors', (_v: string, prev: number) => prev + 1, 0)
    .action((o) => run(prepareCommand({
      out: o.out, imageFolder: o.image_folder, imdbWiki: o.imdb_wiki, builtin: o.builtin as BuiltinName | undefined, size: o.size,
      channels: o.channels as ChannelOrder | undefined, rngSeed: o.rng_seed, testFraction: o.test_fraction, minFaceScore: o.min_face_score,
      maxImages: o.max_images, perClass: o.per_class,
    }, !o.no_progress_bar)));

  program.command('demo')
    .description('the whole lab offline: a VGG-16 pretrained on MNIST, transferred to Fashion-MNIST T-shirt vs Shirt in three experiments')
    .option('--train_per_class <n>', 'labelled target images per class', int('--train_per_class', 1), 10)
    .option('--seeds <n>', 'repeat each experiment with seeds 0..N-1', int('--seeds', 1), 3)
    .option('-e, --epochs <n>', 'epochs per experiment', int('--epochs', 1), 30)
    .option('--report_dir <dir>', 'report folder', 'report')
    .option('--source_model <file>', 'source checkpoint (default: the one shipped in models/)')
    .option('-v, --verbose', 'stack traces on errors', (_v: string, prev: number) => prev + 1, 0)
    .action((o) => run(demo({ trainPerClass: o.train_per_class, seeds: o.seeds, epochs: o.epochs, reportDir: o.report_dir, sourceModel: o.source_model })));

  return program;
}
