# Source: https://keras.io/examples/timeseries/timeseries_weather_forecasting/
#   https://github.com/keras-team/keras-io/blob/master/examples/timeseries/timeseries_weather_forecasting.py
#   (the Keras 3 version, Last modified 2023/11/22)
# Authors: Prabhanshu Attri, Yashika Sharma, Kristi Takach, Falak Shah. keras-io is licensed under the
# Apache License 2.0.
# Changed for the test suite:
#   - the Jena climate CSV download is replaced by a seeded synthetic table with the same 14 feature columns,
#     recorded every 10 minutes: daily and yearly cycles, correlated features, noise.
#   - pandas is not installed: the DataFrame steps (read_csv, .values, .loc/.iloc slicing, the pandas plots of
#     the raw data and the correlation heat map) are done on the same numpy arrays with the same indices; the
#     raw-data plots are left out.
#   - keras.preprocessing.timeseries_dataset_from_array returns a tf.data.Dataset (TensorFlow): replaced by
#     numpy windows of the same shapes (sequence_length, sampling_rate), passed to fit with batch_size; the
#     `dataset_val.take(5)` loop takes 5 batches of those windows.
#   - sizes: ~420k -> 8k rows, past 720 -> 240, future 72 -> 36, epochs 10 -> 8.
#   - appended: the validation MSE and the RESULT line. The prose cells are left out.
"""
Title: Timeseries forecasting for weather prediction
Authors: [Prabhanshu Attri](https://prabhanshu.com/github), [Yashika Sharma](https://github.com/yashika51), [Kristi Takach](https://github.com/ktakattack), [Falak Shah](https://github.com/falaktheoptimist)
Date created: 2020/06/23
Last modified: 2023/11/22
Description: This notebook demonstrates how to do timeseries forecasting using a LSTM model.
"""

"""
## Setup
"""

import numpy as np
import matplotlib.pyplot as plt
import keras

"""
## Climate Data Time-Series (the download replaced: a synthetic table)
"""

import os

_rng = np.random.default_rng(int(os.environ.get("PROGRAM_SEED", "0")))
_rows = 8000
_t = np.arange(_rows)
_day, _year = np.sin(2 * np.pi * _t / 144), np.sin(2 * np.pi * _t / (144 * 60))
_temperature = 8 + 6 * _day + 10 * _year + _rng.normal(0, 0.5, _rows)
_pressure = 990 - 0.4 * _temperature + _rng.normal(0, 1, _rows)
_columns = [_pressure, _temperature, _temperature + 273.15, _temperature - 3 + _rng.normal(0, 1, _rows),
            70 - 2 * _temperature + _rng.normal(0, 5, _rows)]
_columns += [np.exp(0.06 * _temperature) * k + _rng.normal(0, 0.2, _rows) for k in (6, 5, 1, 3, 5)]
_columns += [1250 - 4 * _temperature + _rng.normal(0, 3, _rows), np.abs(_rng.normal(2, 1, _rows)),
             np.abs(_rng.normal(3, 1.5, _rows)), _rng.uniform(0, 360, _rows)]
df = np.stack(_columns, axis=1)  # was: pd.read_csv(csv_path), 14 feature columns after "Date Time"

titles = [
    "Pressure",
    "Temperature",
    "Temperature in Kelvin",
    "Temperature (dew point)",
    "Relative Humidity",
    "Saturation vapor pressure",
    "Vapor pressure",
    "Vapor pressure deficit",
    "Specific humidity",
    "Water vapor concentration",
    "Airtight",
    "Wind speed",
    "Maximum wind speed",
    "Wind direction in degrees",
]

feature_keys = [
    "p (mbar)",
    "T (degC)",
    "Tpot (K)",
    "Tdew (degC)",
    "rh (%)",
    "VPmax (mbar)",
    "VPact (mbar)",
    "VPdef (mbar)",
    "sh (g/kg)",
    "H2OC (mmol/mol)",
    "rho (g/m**3)",
    "wv (m/s)",
    "max. wv (m/s)",
    "wd (deg)",
]

"""
## Data Preprocessing
"""

split_fraction = 0.715
train_split = int(split_fraction * int(df.shape[0]))
step = 6

past = 240
future = 36
learning_rate = 0.001
batch_size = 256
epochs = 8


def normalize(data, train_split):
    data_mean = data[:train_split].mean(axis=0)
    data_std = data[:train_split].std(axis=0)
    return (data - data_mean) / data_std


print(
    "The selected parameters are:",
    ", ".join([titles[i] for i in [0, 1, 5, 7, 8, 10, 11]]),
)
selected_features = [feature_keys[i] for i in [0, 1, 5, 7, 8, 10, 11]]
features = df[:, [0, 1, 5, 7, 8, 10, 11]]  # was: df[selected_features]

features = normalize(features, train_split)

train_data = features[0:train_split]  # was: features.loc[0 : train_split - 1]
val_data = features[train_split:]

"""
# Training dataset
"""

start = past + future
end = start + train_split

x_train = train_data[:, [i for i in range(7)]]
y_train = features[start:end][:, [1]]

sequence_length = int(past / step)


def _timeseries_windows(data, targets, sequence_length, sampling_rate):
    """What timeseries_dataset_from_array yields, as two arrays: windows and the target of each window's start."""
    span = (sequence_length - 1) * sampling_rate + 1
    count = min(len(data) - span + 1, len(targets))
    starts = np.arange(count)
    windows = data[starts[:, None] + np.arange(sequence_length)[None, :] * sampling_rate]
    return windows.astype("float32"), targets[starts].astype("float32")


x_windows_train, y_windows_train = _timeseries_windows(x_train, y_train, sequence_length, step)

"""
## Validation dataset
"""

x_end = len(val_data) - past - future

label_start = train_split + past + future

x_val = val_data[:x_end][:, [i for i in range(7)]]
y_val = features[label_start:][:, [1]]

x_windows_val, y_windows_val = _timeseries_windows(x_val, y_val, sequence_length, step)

inputs, targets = x_windows_train[:batch_size], y_windows_train[:batch_size]

print("Input shape:", inputs.shape)
print("Target shape:", targets.shape)

"""
## Training
"""

inputs = keras.layers.Input(shape=(inputs.shape[1], inputs.shape[2]))
lstm_out = keras.layers.LSTM(32)(inputs)
outputs = keras.layers.Dense(1)(lstm_out)

model = keras.Model(inputs=inputs, outputs=outputs)
model.compile(
    optimizer=keras.optimizers.Adam(learning_rate=learning_rate), loss="mse"
)
model.summary()

path_checkpoint = "model_checkpoint.weights.h5"
es_callback = keras.callbacks.EarlyStopping(
    monitor="val_loss", min_delta=0, patience=5
)

modelckpt_callback = keras.callbacks.ModelCheckpoint(
    monitor="val_loss",
    filepath=path_checkpoint,
    verbose=1,
    save_weights_only=True,
    save_best_only=True,
)

history = model.fit(
    x_windows_train,
    y_windows_train,
    batch_size=batch_size,
    epochs=epochs,
    validation_data=(x_windows_val, y_windows_val),
    callbacks=[es_callback, modelckpt_callback],
)


def visualize_loss(history, title):
    loss = history.history["loss"]
    val_loss = history.history["val_loss"]
    epochs = range(len(loss))
    plt.figure()
    plt.plot(epochs, loss, "b", label="Training loss")
    plt.plot(epochs, val_loss, "r", label="Validation loss")
    plt.title(title)
    plt.xlabel("Epochs")
    plt.ylabel("Loss")
    plt.legend()
    plt.show()


visualize_loss(history, "Training and Validation Loss")

"""
## Prediction
"""


def show_plot(plot_data, delta, title):
    labels = ["History", "True Future", "Model Prediction"]
    marker = [".-", "rx", "go"]
    time_steps = list(range(-(plot_data[0].shape[0]), 0))
    if delta:
        future = delta
    else:
        future = 0

    plt.title(title)
    for i, val in enumerate(plot_data):
        if i:
            plt.plot(
                future, plot_data[i], marker[i], markersize=10, label=labels[i]
            )
        else:
            plt.plot(
                time_steps, plot_data[i].flatten(), marker[i], label=labels[i]
            )
    plt.legend()
    plt.xlim([time_steps[0], (future + 5) * 2])
    plt.xlabel("Time-Step")
    plt.show()
    return


for x, y in [(x_windows_val[i : i + batch_size], y_windows_val[i : i + batch_size])
             for i in range(0, 5 * batch_size, batch_size)]:  # was: dataset_val.take(5)
    show_plot(
        [x[0][:, 1], y[0], model.predict(x)[0]],
        12,
        "Single Step Prediction",
    )

# --- appended for the test suite ---
import json

val_mse = model.evaluate(x_windows_val, y_windows_val, verbose=0)
print("RESULT " + json.dumps({"metric": "val_mse", "value": float(val_mse), "higher_is_better": False}))
