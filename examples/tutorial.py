# The GRU tutorial's full example, with only its import lines changed from Keras to gated.
# Its labels are one-hot, (1000, 10, 2), while the model predicts (1000, 10, 1): gated stops before training
# and says why and how to fix it (examples/tutorial_fixed.py runs both fixes).
import numpy as np
from gated import Sequential
from gated.layers import GRU, Dense
from gated.utils import to_categorical

# Generate some random data
X_train = np.random.random((1000, 10, 1))
y_train = to_categorical(np.random.randint(2, size=(1000, 10)))
X_test = np.random.random((200, 10, 1))
y_test = to_categorical(np.random.randint(2, size=(200, 10)))

# Create a GRU layer
gru_layer = GRU(128, input_shape=(None, 1), return_sequences=True)

# Build the model
model = Sequential()
model.add(gru_layer)
model.add(Dense(1, activation='sigmoid'))

# Compile the model
model.compile(optimizer='adam', loss='binary_crossentropy', metrics=['accuracy'])

# Train the model
model.fit(X_train, y_train, epochs=10, batch_size=32, validation_data=(X_test, y_test))

# Evaluate the model
loss, accuracy = model.evaluate(X_test, y_test)
print('Test loss:', loss)
print('Test accuracy:', accuracy)
