"""English: the texts of the core (``explorer.errors.CoreText`` codes and error codes), said in the page's
language; the core keeps its English messages for scripts."""

from __future__ import annotations

TEXTS: dict[str, str] = {
    # texts of the core, said in the page's language (issue 13; the core keeps its English for scripts)
    "core.refusal.output": (
        "no layer uses its channels: they are the network's outputs (the classifier), or they reach the "
        "output through operations that cannot be followed, so they are never pruned"
    ),
    "core.refusal.grouped_conv": (
        "its channels feed only part of the grouped convolution {layer}, whose groups must all lose the "
        "same number of channels"
    ),
    "core.refusal.coupled": (
        "its channels are tied, through an operation that changes the channel count, to {layer} ({channels} "
        "channels vs {reached}), e.g. a zero-padding shortcut written inline with F.pad (written as a "
        "module, it can be pruned)"
    ),
    "core.refusal.cross_norm": (
        "{layer} ({kind}) normalises across channels, so switching a channel off is not the same as removing "
        "it"
    ),
    "core.refusal.layer_type": "{layer} ({kind}) is a kind of layer the explorer cannot account for",
    "core.refusal.functional": (
        "its channels reach {param}, which the model uses in its own code instead of calling {layer}: a mask "
        "cannot act there"
    ),
    "core.refusal.layer_norm_dims": (
        "{layer} (LayerNorm over {shape}) normalises several dimensions at once, so its channels cannot be "
        "removed one by one"
    ),
    "core.refusal.layer_norm_forward": (
        "{layer} ({kind}) is a LayerNorm with its own forward: which dimension it normalises is unknown"
    ),
    "core.refusal.emptying": (
        "{layer} holds channels of only some of the group's units, so keeping one unit could remove all of "
        "its channels"
    ),
    "core.refusal.unfollowable": (
        "its channels go through reshapes that mix them with other dimensions (attention heads, windows…), "
        "which cannot be followed, so what they are tied to is unknown"
    ),
    "core.criterion.no_batch_norm": "{criterion}: no BatchNorm follows {layer}",
    "core.export.other_files": (
        "{folder} holds other files: save the pruned model into a new or empty folder"
    ),
    # errors a student can meet when giving a model, checkpoint, data, plan or history file
    "core.checkpoint.not_state_dict": (
        "{path} holds a {kind}, not a model's weights (a state_dict: a dictionary of tensors)"
    ),
    "core.checkpoint.empty_dict": "{path} holds an empty dictionary, not a model's weights",
    "core.checkpoint.not_tensors": (
        "{path} is a dictionary, but its entries {entries} are not tensors: save only the model's weights, "
        "with torch.save(model.state_dict(), path)"
    ),
    "core.checkpoint.checksum": (
        "{path} is damaged: the stored checksum of its part {entry} does not match its bytes (a damaged "
        "copy or download?)"
    ),
    "core.checkpoint.missing": "the checkpoint {path} does not exist or is not a file",
    "core.checkpoint.too_large": (
        "the checkpoint {path} is {size} bytes, more than the limit of {limit} bytes"
    ),
    "core.checkpoint.empty_file": "the checkpoint {path} is empty (0 bytes)",
    "core.checkpoint.garbled": (
        "{path} is damaged: its header holds bytes that are not a PyTorch checkpoint's (a damaged or "
        "cut-off download?)"
    ),
    "core.checkpoint.pickled_objects": (
        "{path} was refused: it holds Python objects, not only tensors. For safety only plain weights are "
        "read: save them with torch.save(model.state_dict(), path), or give the model's architecture in "
        "Python and load these weights into it"
    ),
    "core.checkpoint.not_torch": "{path} is damaged or not a PyTorch checkpoint ({detail})",
    "core.checkpoint.unreadable": "{path} is cut off, damaged or not a PyTorch checkpoint ({detail})",
    "core.checkpoint.wrong_shapes": "{source} does not fit the model: {detail}",
    "core.checkpoint.keys_mismatch": (
        "{source} does not match the model: weights missing "
        "from the file: {missing}; weights the model does not have: {unexpected}"
    ),
    "core.plan.not_a_plan": (
        "this is not a pruning plan: it should be a JSON object whose 'groups' is an object"
    ),
    "core.plan.format": "this is not a pruning plan: its format is {format}",
    "core.plan.no_pruned": "the plan's entry for {group} needs a 'pruned' list of channel numbers",
    "core.plan.pruned_not_integers": "the plan's entry for {group}: 'pruned' must hold whole channel numbers",
    "core.plan.ratio_not_number": "the plan's entry for {group}: 'ratio' must be a number, not {ratio}",
    "core.plan.criterion_not_text": (
        "the plan's entry for {group}: 'criterion' must be a text, not {criterion}"
    ),
    "core.plan.not_json": "the plan is not valid JSON: {detail}",
    "core.plan.out_of_range": (
        "{group} has {channels} channels; the channel numbers {indices} are out of range"
    ),
    "core.plan.removes_all": "the plan removes all {channels} channels of {group}; at least one must be kept",
    "core.provenance.unreadable": "cannot read the history file {path}: {detail}",
    "core.provenance.not_json": "the history file is not valid JSON: {detail}",
    "core.provenance.not_history": "this is not a plan history file",
    "core.provenance.other_model": "the history file is for the model {found}, not {model}",
    "core.provenance.records_not_list": "the history file's 'records' must be a list",
    "core.provenance.record_not_object": "record {record} of the history file is not an object",
    "core.provenance.record_not_number": (
        "record {record} of the history file: {field} must be a finite number, not {value}"
    ),
    "core.provenance.record_not_text": "record {record} of the history file: {field} must be a text",
    "core.provenance.record_plan_number": (
        "record {record} of the history file: 'plan_number' must be a whole number"
    ),
    "core.data.empty_validation": "the validation data is empty",
    "core.model.failed_on_inputs": "the model failed on inputs of shape {shape} ({detail})",
    "core.model.not_logits": (
        "the model must return one score per class for each image (a tensor [N, number of classes])"
    ),
    "core.data.labels_beyond_outputs": "the labels go up to {top}, but the model has only {outputs} outputs",
    "core.export.unreadable_plan": "cannot read {file}: {detail}",
    "core.export.not_zoo_model": (
        "the plan was saved from {model}, which is not a built-in model: its original (unpruned) "
        "architecture is needed to rebuild it"
    ),
    "core.export.weights_mismatch": (
        "the saved weights do not fit the pruned architecture: missing {missing}; unexpected {unexpected}"
    ),
    "core.data.unreadable": "cannot read {path}: {detail}",
    "core.data.not_idx": "{path} is not an IDX file of unsigned bytes",
    "core.data.idx_truncated": "{path} is cut off: {size} bytes of data, expected {expected}",
    "core.data.idx_mismatch": "{images} and {labels} do not hold matching images [N, H, W] and labels [N]",
    "core.data.csv_unreadable": "cannot read the CIFAR-10 CSV {path}: {detail}",
    "core.data.csv_empty": "the CIFAR-10 CSV {path} has no rows",
    "core.data.csv_columns": (
        "the CIFAR-10 CSV {path}: its rows have {columns} values, expected 1 label and 3072 pixels"
    ),
    "core.data.csv_labels": "the CIFAR-10 CSV {path}: the labels must be whole numbers from 0 to 9",
    "core.data.csv_pixels": "the CIFAR-10 CSV {path}: the pixel values must be from 0 to 255",
    "core.data.folder_unreadable": "cannot read the image folder {path}: {detail}",
    "core.data.unknown_source": (
        "unknown data source {source}: use one of {sources}, an image folder, a Dataset or a DataLoader"
    ),
    "core.data.negative_labels": "{data}: the labels must be 0 or more, but one is {label}",
    "core.data.wrong_shape": (
        "{data}: the inputs have shape (C, H, W) = {given}, but the model expects {expected}"
    ),
    "core.data.labels_too_large": "{data}: the labels must be from 0 to below {classes}, but go up to {top}",
    "core.data.empty_source": "the data source {source} is empty",
    "core.data.empty_training": "the training data {source} is empty",
    "core.data.empty_dataset": "the dataset is empty",
    "core.data.mixed_shapes": "the inputs have different shapes ({shapes}); resize them to one shape",
    "core.weights.none": "the built-in model {model} has no pretrained weights",
    "core.weights.digest": (
        "{file} is not the expected weights file for {model}: its SHA-256 fingerprint is {digest}, "
        "expected {expected}"
    ),
    "core.weights.install_missing": "cannot install the weights of {model}: {path} does not exist",
    "core.weights.download_failed": (
        "could not download the weights of {model} from {url} ({reason}). Offline, download {source} on "
        "another computer and install it here"
    ),
    "core.weights.not_cached": (
        "the pretrained weights of {model} are not on this computer ({cache}) and downloading is off: "
        "download {source} and install it, or allow downloads"
    ),
    "core.train.no_training_split": (
        "the data {data} has no training data to fine-tune on, and the validation data is never trained on "
        '(its accuracy would no longer mean anything): open it with training data, or with "held-out" to '
        "train on the samples left out of the validation data"
    ),
    "core.model.non_finite_weights": (
        "non-finite weights (NaN or Inf) in {layers}: the model is broken (a "
        "diverged training run or a bad checkpoint?), so its channels cannot be scored"
    ),
}
