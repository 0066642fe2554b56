# Source: 001_5b3abb5b50bcf082.txt lines 598-612 (block 1) and 618-663 (block 2)
# Extraction fixes: page-break line 642 dropped; wrapped call args (610-611, 620-622, 626-627) kept.
# NOT RUNNABLE AS WRITTEN: `autoencoder` is used (fit/predict/plot_model) but never built or compiled in
#   the seed; Input, Dense and Model are imported but the functional-API model definition that should sit
#   between the two code blocks is missing.
# Imports changed from tensorflow.keras / keras to nnplay.keras; nothing else differs from the seed.
import numpy as np
import matplotlib.pyplot as plt
from nnplay.keras.datasets import mnist
from nnplay.keras.layers import Input, Dense
from nnplay.keras.models import Model

# Load MNIST dataset
(X_train, _), (X_test, _) = mnist.load_data()

# Normalize and reshape data
X_train = X_train.astype('float32') / 255.0
X_test = X_test.astype('float32') / 255.0
X_train = X_train.reshape((len(X_train),
                           np.prod(X_train.shape[1:])))
X_test = X_test.reshape((len(X_test), np.prod(X_test.shape[1:])))

epochs = 50
batch_size = 256
history = autoencoder.fit(X_train, X_train, epochs=epochs,
batch_size=batch_size, shuffle=True, validation_data=(X_test,
X_test))

# Visualize model structure
from nnplay.keras.utils import plot_model
plot_model(autoencoder, to_file='autoencoder.png',
show_shapes=True, show_layer_names=True)

# Plot training/validation loss
loss = history.history['loss']
val_loss = history.history['val_loss']
epochs_range = range(epochs)
plt.plot(epochs_range, loss, label='Training Loss')
plt.plot(epochs_range, val_loss, label='Validation Loss')
plt.xlabel('Epochs')
plt.ylabel('Loss')
plt.legend()
plt.title('Training and Validation Loss')
plt.savefig('loss_plot.png')
plt.show()

# Reconstructed images visualization
decoded_imgs = autoencoder.predict(X_test)

n = 10 # How many digits to display
plt.figure(figsize=(20, 4))
for i in range(n):
    # Display original images
    ax = plt.subplot(2, n, i + 1)
    plt.imshow(X_test[i].reshape(28, 28))
    plt.gray()
    ax.get_xaxis().set_visible(False)
    ax.get_yaxis().set_visible(False)

    # Display reconstructed images
    ax = plt.subplot(2, n, i + 1 + n)
    plt.imshow(decoded_imgs[i].reshape(28, 28))
    plt.gray()
    ax.get_xaxis().set_visible(False)
    ax.get_yaxis().set_visible(False)
plt.savefig('reconstructed_images.png')
plt.show()
